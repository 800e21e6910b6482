mkdir -p logs/2024 logs/db
head -c 20000 /dev/zero > logs/app.log
head -c 5000 /dev/zero > logs/small.log
head -c 30000 /dev/zero > logs/2024/march.log
head -c 10240 /dev/zero > logs/2024/april.log
head -c 12000 /dev/zero > logs/db/slow.log
head -c 50000 /dev/zero > logs/db/dump.sql
