mkdir pics
echo one > pics/a.png; echo two > pics/b.png; echo one > pics/c.png
echo three > pics/d.png; echo two > pics/e.png; echo one > pics/f.png; echo four > pics/g.png
