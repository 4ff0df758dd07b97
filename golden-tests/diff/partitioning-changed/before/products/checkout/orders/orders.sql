SELECT order_id, amount AS amount, status AS status, ordered_on
FROM shop_orders
