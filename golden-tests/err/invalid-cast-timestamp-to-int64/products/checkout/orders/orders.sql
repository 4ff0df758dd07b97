SELECT
  order_id,
  customer_id,
  status,
  amount,
  DATE(created_at) AS ordered_on,
  CAST(created_at AS INT64) AS created_epoch
FROM shop_orders
