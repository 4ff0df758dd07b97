SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on
FROM shop_orders
WHERE amount IN UNNEST(ARRAY<NUMERIC(10, 2)>[10.5, 20])
