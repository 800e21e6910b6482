for f in Docs/*; do n="Docs/$(basename "$f" | tr 'A-Z' 'a-z')"; [ "$f" = "$n" ] || mv -- "$f" "$n"; done
