SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on
FROM shop_orders
-- keep the latest row of each order
WHERE ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY created_at DESC) = 1
