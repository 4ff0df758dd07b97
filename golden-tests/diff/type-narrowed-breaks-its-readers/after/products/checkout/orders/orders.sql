SELECT order_id, CAST(amount AS INT64) AS amount, status AS status
FROM shop_orders
