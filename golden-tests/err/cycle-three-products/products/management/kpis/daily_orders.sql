SELECT ordered_on, COUNT(*) AS order_count
FROM orders
GROUP BY ordered_on
