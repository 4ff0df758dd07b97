SELECT
  order_id,
  status,
  customer_id,
  amount,
  DATE(created_at) AS ordered_on
FROM shop_orders
