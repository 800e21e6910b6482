mkdir -p var/log
for f in auth boot kern app sys; do echo "$f entries" > var/log/$f.log; done
touch -d '10 days ago' var/log/auth.log
touch -d '30 days ago' var/log/boot.log
touch -d '8 days ago' var/log/kern.log
touch -d '2 days ago' var/log/app.log
