SELECT order_id, channel, amount AS amount, status AS status
FROM shop_orders
