mkdir notes; echo 'first note' > notes/a.txt; echo 'second note' > notes/b.txt; echo png > notes/image.png
