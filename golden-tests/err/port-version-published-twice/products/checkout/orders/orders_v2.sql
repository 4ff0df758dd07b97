SELECT order_id, CAST(ROUND(amount * 100) AS INT64) AS amount_cents, status
FROM shop_orders
