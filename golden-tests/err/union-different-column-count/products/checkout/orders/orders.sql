SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on
FROM shop_orders
UNION ALL
SELECT
  CAST(order_no AS STRING) AS order_id,
  customer_id,
  status,
  DATE(created_at) AS ordered_on
FROM legacy_orders
