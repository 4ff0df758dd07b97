SELECT
  order_id,
  customer_id,
  status,
  amount,
  CAST(created_at AS date) AS ordered_on
FROM shop_orders
