SELECT
  o.id AS order_id,
  o.customer AS customer_id,
  o.status,
  o.amount,
  DATE(o.created) AS ordered_on
FROM (
  SELECT order_id, customer_id, status, amount, created_at
  FROM shop_orders
) AS o (id, customer, status, amount, created)
