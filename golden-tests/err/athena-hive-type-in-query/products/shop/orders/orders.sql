SELECT
  order_id,
  CAST(amount AS string) AS amount_text,
  CAST(items AS int64) AS items
FROM raw_orders
