sqlite3 shop.db "SELECT SUM(amount) FROM orders WHERE customer = 'acme'" > total.txt
