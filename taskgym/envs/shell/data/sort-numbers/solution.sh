sort -n -u numbers.txt > sorted.txt
