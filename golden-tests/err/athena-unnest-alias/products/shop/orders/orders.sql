SELECT
  o.order_id,
  l.sku,
  l.qty
FROM raw_orders AS o
CROSS JOIN UNNEST(o.lines) WITH ORDINALITY AS l(sku, qty)
