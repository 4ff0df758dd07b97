SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on
FROM shop_orders
WHERE created_at > CURRENT_TIMESTAMP() - 30
