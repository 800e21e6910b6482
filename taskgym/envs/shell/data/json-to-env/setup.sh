echo '{"port": 5432, "host": "db.local", "debug": false, "user": "app"}' > config.json
