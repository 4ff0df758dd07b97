SELECT
  order_id,
  customer_id,
  status,
  amount,
  created_at::DATE AS ordered_on
FROM shop_orders
