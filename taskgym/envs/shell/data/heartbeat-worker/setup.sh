cat > worker.py <<'PY'
import os
import time

while True:
    # Written whole, then renamed into place: a reader never sees half a heartbeat.
    with open("heartbeat.tmp", "w") as f:
        f.write(f"{os.getpid()} {time.time()!r}")
    os.replace("heartbeat.tmp", "heartbeat.txt")
    time.sleep(0.2)
PY
