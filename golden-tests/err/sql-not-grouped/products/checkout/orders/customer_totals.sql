SELECT
  customer_id,
  status,
  COUNT(*) AS order_count,
  SUM(amount) AS total_amount
FROM shop_orders
GROUP BY customer_id
