sed -i 's/for line in open(sys.argv\[1\])\]/for line in open(sys.argv[1]) if line.strip()]/' average.py
