echo '{"server": {"host": "0.0.0.0", "port": 80}, "db": {"name": "shop"}}' > config.json
