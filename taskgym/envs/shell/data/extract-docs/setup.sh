mkdir -p /tmp/b/guide /tmp/b/src
echo '# Project' > /tmp/b/README.md
echo '# Intro' > /tmp/b/guide/intro.md
echo '# Usage' > /tmp/b/guide/usage.md
echo 'print(1)' > /tmp/b/src/main.py
echo 'x' > /tmp/b/guide/diagram.png
tar -czf bundle.tar.gz -C /tmp/b .
rm -rf /tmp/b
