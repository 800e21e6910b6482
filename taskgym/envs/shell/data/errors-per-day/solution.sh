awk '$3 == "ERROR" {n[$1]++} END {for (d in n) print d, n[d]}' app.log | sort > errors.txt
