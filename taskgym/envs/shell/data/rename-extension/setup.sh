mkdir photos
echo beach > photos/beach.jpeg
echo sunset > photos/sunset.jpg
echo holiday > "photos/holiday 2023.jpeg"
echo notes > photos/notes.txt
