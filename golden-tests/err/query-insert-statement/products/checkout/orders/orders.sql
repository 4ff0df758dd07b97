INSERT INTO orders (order_id, customer_id, status, amount, ordered_on)
SELECT order_id, customer_id, status, amount, DATE(created_at)
FROM shop_orders
