mkdir -p project/src && echo '# P' > project/README.md && echo 'print(1)' > project/src/main.py
