#!/bin/bash
set -e
cat > /tmp/convert.py <<'PY'
import configparser, json, re
parser = configparser.ConfigParser(comment_prefixes=(";", "#"), interpolation=None)
parser.optionxform = str
parser.read("/app/service.ini")
def typed(value):
    value = value.strip()
    if re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value
data = {s: {k: typed(v) for k, v in parser[s].items()} for s in parser.sections()}
json.dump(data, open("/tmp/service.json", "w"), indent=2)
PY
python3 /tmp/convert.py
cp /tmp/service.json /app/service.json
