SELECT
  order_id,
  cardinality(tags) AS tag_count,
  count_if(paid) OVER (PARTITION BY order_id) AS paid_lines
FROM raw_orders
