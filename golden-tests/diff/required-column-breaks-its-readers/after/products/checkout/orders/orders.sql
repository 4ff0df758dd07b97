SELECT order_id, amount AS amount, COALESCE(status, 'new') AS status
FROM shop_orders
