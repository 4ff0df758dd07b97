SELECT
  order_id,
  IFNULL(amount, 0) AS amount,
  SAFE_DIVIDE(amount, items) AS amount_per_item,
  COUNTIF(items > 1) OVER (PARTITION BY order_id) AS multi_item_orders
FROM raw_orders
