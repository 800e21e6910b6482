mkdir -p www/css www/cgi
echo hi > www/index.html; echo body > www/css/site.css; echo run > www/cgi/run.cgi
chmod 700 www/css; chmod 711 www; chmod 600 www/index.html; chmod 777 www/cgi/run.cgi
