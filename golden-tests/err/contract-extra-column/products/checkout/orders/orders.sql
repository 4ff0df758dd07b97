SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on,
  created_at
FROM shop_orders
