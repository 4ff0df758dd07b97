SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on
FROM shop_orders
