SELECT
  order_id,
  custmer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on
FROM shop_orders
