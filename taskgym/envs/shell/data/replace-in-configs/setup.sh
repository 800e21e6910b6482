mkdir -p etc/nginx
printf 'host = old.example.com\nmirror = old.example.com:8080\n' > etc/app.conf
cp etc/app.conf etc/app.conf.bak
printf 'server_name old.example.com;\n' > etc/nginx/site.conf
printf 'see the docs\n' > etc/readme.txt
