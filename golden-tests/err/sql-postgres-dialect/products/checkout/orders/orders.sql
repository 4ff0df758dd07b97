SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(DATE_TRUNC('day', created_at)) AS ordered_on,
  TO_CHAR(created_at, 'YYYY-MM') AS order_month
FROM shop_orders
