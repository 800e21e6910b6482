#!/bin/bash
set -e
cd /app/inbox
shopt -s nullglob nocaseglob
files=(IMG_[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]_*.jpg IMG_[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]_*.mp4)
for f in "${files[@]}"; do mkdir -p "/app/photos/${f:4:4}/${f:8:2}"; done
for f in "${files[@]}"; do mv -- "$f" "/app/photos/${f:4:4}/${f:8:2}/"; done
