find var/log -name '*.log' -mtime +7 | sort > /tmp/old.txt
tar -czf old-logs.tar.gz -T /tmp/old.txt && xargs rm -- < /tmp/old.txt
wc -l < /tmp/old.txt > report.txt
