WITH lines AS (
  SELECT
    l.order_id,
    l.line_no,
    l.sku,
    l.product_name,
    IFNULL(l.category, 'uncategorised') AS category,
    l.quantity,
    l.unit_price,
    IFNULL(l.discount, 0) AS discount
  FROM shop_order_lines AS l
  WHERE l.quantity > 0
)

SELECT
  order_id,
  lines.line_no AS line_number,
  lines.sku,
  lines.product_name,
  lines.category,
  lines.quantity,
  lines.unit_price,
  lines.discount AS discount_amount,
  ROUND(lines.unit_price * lines.quantity - lines.discount, 2) AS line_amount,
  DATE(o.created_at, 'Europe/Berlin') AS ordered_on
FROM lines
INNER JOIN shop_orders AS o USING (order_id)
WHERE NOT IFNULL(o.is_test, FALSE)
