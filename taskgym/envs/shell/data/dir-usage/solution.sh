for d in data/*/; do n=$(basename "$d"); s=$(find "$d" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'); echo "$s $n"; done | sort -rn > usage.txt
