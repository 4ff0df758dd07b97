SELECT order_id, status
FROM orders
WHERE status IS NOT NULL
