mkdir -p data/a data/b/deep
head -c 100 /dev/zero > data/a/one; head -c 9000 /dev/zero > data/b/deep/big.dat; head -c 8999 /dev/zero > data/b/two
