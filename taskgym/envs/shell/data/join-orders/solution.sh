awk -F'\t' 'NR==FNR {name[$1]=$2; next} {t[name[$2]]+=$3} END {for (n in t) print n, t[n]}' users.tsv orders.tsv | sort > totals.txt
