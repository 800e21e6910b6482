for v in 1 2 9 10; do mkdir -p releases/v$v; echo $v > releases/v$v/VERSION; done
ln -s releases/v2 current
