set -e
t=$(mktemp -d)
mkdir -p "$t/a/b" "$t/my dir"
touch "$t/x.tmp" "$t/a/y.tmp" "$t/a/b/z.tmp" "$t/my dir/w.tmp" "$t/keep.txt" "$t/a/tmp" "$t/a/b/.tmp.txt"
out=$(./cleanup.sh "$t")
[ -z "$out" ]
[ "$(cd "$t" && find . -type f | sort | tr '\n' ' ')" = "./a/b/.tmp.txt ./a/tmp ./keep.txt " ]
