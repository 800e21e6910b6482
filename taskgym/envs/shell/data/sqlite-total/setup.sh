sqlite3 shop.db "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT, amount INTEGER); INSERT INTO orders(customer, amount) VALUES ('acme', 100), ('globex', 40), ('acme', 75), ('initech', 12);"
