cat > average.py <<'PY'
import sys

numbers = [float(line) for line in open(sys.argv[1])]
print(f"{sum(numbers) / len(numbers):.2f}")
PY
printf '3\n\n6\n' > numbers.txt
