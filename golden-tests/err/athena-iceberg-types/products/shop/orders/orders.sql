SELECT
  order_id,
  CAST(items AS tinyint) AS items,
  CAST(created_at AS time) AS created_time,
  attributes
FROM raw_orders
