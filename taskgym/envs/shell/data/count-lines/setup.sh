for i in $(seq 1 137); do echo "record $i $((i * 7 % 13))"; done > data.txt
