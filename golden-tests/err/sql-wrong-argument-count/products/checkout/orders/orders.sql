SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on,
  DATE_DIFF(CURRENT_DATE(), DATE(created_at)) AS age_days
FROM shop_orders
