SELECT order_id, amount AS amount, status AS status, channel
FROM shop_orders
