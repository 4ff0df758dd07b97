SELECT SUM(amount) AS total
FROM orders
