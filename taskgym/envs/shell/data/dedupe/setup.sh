printf "mia\nleo\nmia\nava\nleo\nzoe\nmia\nben\n" > names.txt
