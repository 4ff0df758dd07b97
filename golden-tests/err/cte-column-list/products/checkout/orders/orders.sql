WITH recent (id, customer, status, amount, created) AS (
  SELECT order_id, customer_id, status, amount, created_at
  FROM shop_orders
  WHERE created_at > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 90 DAY)
)
SELECT
  id AS order_id,
  customer AS customer_id,
  status,
  amount,
  DATE(created) AS ordered_on
FROM recent
