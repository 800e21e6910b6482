cat > stats.py <<'PY'
def median(values):
    return values[len(values) // 2]
PY
