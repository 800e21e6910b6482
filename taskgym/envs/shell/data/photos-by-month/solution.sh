for f in camera/IMG_*.jpg; do b=$(basename "$f"); d=sorted/${b:4:4}/${b:8:2}; mkdir -p "$d" && mv "$f" "$d/"; done
