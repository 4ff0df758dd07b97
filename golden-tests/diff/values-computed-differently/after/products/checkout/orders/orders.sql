SELECT order_id, ROUND(amount, 2) AS amount, status AS status
FROM shop_orders
