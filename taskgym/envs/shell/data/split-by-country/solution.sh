mkdir -p by_country && tail -n +2 people.csv | while IFS=, read -r name country; do f=by_country/$country.csv; [ -f "$f" ] || echo name,country > "$f"; echo "$name,$country" >> "$f"; done
