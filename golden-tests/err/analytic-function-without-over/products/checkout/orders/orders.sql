SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on,
  ROW_NUMBER() AS order_number
FROM shop_orders
