SELECT
  order_id,
  created_at
FROM raw_orders
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY created_at DESC) = 1
