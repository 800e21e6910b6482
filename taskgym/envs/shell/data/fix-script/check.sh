# The agent's script on inputs it never saw, in isolated mode (no imports from here).
set -e
t=$(mktemp -d)
printf '1\n2\n\n\n4\n' > "$t/a.txt"
printf '  10  \n-2.5\n' > "$t/b.txt"
[ "$(python3 -I average.py "$t/a.txt")" = "2.33" ]
[ "$(python3 -I average.py "$t/b.txt")" = "3.75" ]
[ "$(python3 -I average.py numbers.txt)" = "4.50" ]
