nohup python3 worker.py >/dev/null 2>&1 & echo $! > worker.pid
