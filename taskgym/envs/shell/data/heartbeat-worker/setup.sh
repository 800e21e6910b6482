cat > worker.py <<'PY'
import time
while True:
    with open("heartbeat.txt", "w") as f:
        f.write(repr(time.time()))
    time.sleep(0.2)
PY
