cat > users.json <<'JSON'
[{"name": "Zed", "email": "zed@example.org", "active": true},
 {"name": "Bo", "email": "bo@example.org", "active": false},
 {"name": "Ana", "email": "ana@example.org", "active": true},
 {"name": "Kim", "email": "kim@example.org", "active": true}]
JSON
