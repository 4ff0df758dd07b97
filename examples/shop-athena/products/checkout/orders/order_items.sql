WITH lines AS (
  SELECT
    l.order_id,
    l.line_no,
    l.sku,
    l.product_name,
    coalesce(l.category, 'uncategorised') AS category,
    l.quantity,
    l.unit_price,
    coalesce(l.discount, 0) AS discount
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
  -- Prices are in cents already (scale 2), so the amount needs no rounding;
  -- Trino types it decimal(32,2), the cast keeps the published precision.
  CAST(lines.unit_price * lines.quantity - lines.discount AS decimal(12,2)) AS line_amount,
  CAST(o.created_at AT TIME ZONE 'Europe/Berlin' AS date) AS ordered_on
FROM lines
INNER JOIN shop_orders AS o USING (order_id)
WHERE NOT coalesce(o.is_test, false)
