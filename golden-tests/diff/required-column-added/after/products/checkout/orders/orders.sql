SELECT order_id, amount AS amount, status AS status, IFNULL(channel, 'web') AS channel
FROM shop_orders
