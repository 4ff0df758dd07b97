SELECT
  customer_id,
  COUNT(*) AS order_count,
  SUM(amount) AS total_amount,
  AVG(amount) AS avg_amount
FROM shop_orders
GROUP BY customer_id
