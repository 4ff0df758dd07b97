SELECT
  customer_id,
  COUNT(*) AS order_count,
  SUM(amount)
FROM shop_orders
GROUP BY customer_id
