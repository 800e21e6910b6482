#!/bin/bash
set -e
cd /var/log/app
for n in $(seq 10 -1 2); do [ -e "app.log.$n.gz" ] && mv "app.log.$n.gz" "app.log.$((n + 1)).gz"; done
mv app.log.1 app.log.2 && gzip -n app.log.2
mv app.log app.log.1
install -m 0640 /dev/null app.log
for f in app.log.*.gz; do n=${f#app.log.}; n=${n%.gz}; [ "$n" -le "$KEEP" ] || rm -f "$f"; done
