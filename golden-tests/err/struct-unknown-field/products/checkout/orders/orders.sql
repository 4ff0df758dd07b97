SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on,
  shipping.zip_code
FROM shop_orders
