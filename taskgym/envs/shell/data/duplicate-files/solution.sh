cd pics && md5sum * | sort | awk '{g[$1]=g[$1] (g[$1] ? " " : "") $2; n[$1]++} END {for (h in g) if (n[h] > 1) print g[h]}' | sort > ../dups.txt; cd ..
