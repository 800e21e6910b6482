sed -i 's/^port = 80$/port = 8080\ndebug = false/' app.conf
