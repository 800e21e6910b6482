printf '10\n-3\n100\n7\n0\n-12\n7\n10\n' > numbers.txt
