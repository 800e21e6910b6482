find logs -name "*.log" -size +10k | sort > big.txt
