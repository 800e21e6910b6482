python3 -c 'import json; c=json.load(open("config.json")); print("\n".join(f"{k.upper()}={str(v).lower() if isinstance(v, bool) else v}" for k, v in sorted(c.items())))' > .env
