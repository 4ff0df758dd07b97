SELECT
  customer_id,
  COUNT(*) AS order_count,
  SUM(amount) AS total_amount
FROM shop_orders
WHERE SUM(amount) > 100
GROUP BY customer_id
