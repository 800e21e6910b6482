cut -d' ' -f1 access.log | sort | uniq -c | sort -k1,1nr -k2,2 | awk '{print $1, $2}' > ips.txt
