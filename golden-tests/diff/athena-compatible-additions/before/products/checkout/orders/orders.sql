SELECT order_id, amount AS amount, status AS status
FROM shop_orders
