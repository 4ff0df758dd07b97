-- Refunds are based on what the customer actually paid for the SKU in that
-- order (after line discounts), not on today's list price.
WITH paid_per_sku AS (
  SELECT
    order_id,
    sku,
    sum(line_amount) AS paid_amount,
    sum(quantity) AS paid_quantity
  FROM order_items
  GROUP BY order_id, sku
)

SELECT
  r.rma_id AS return_id,
  s.order_id,
  r.parcel_id AS shipment_id,
  r.sku,
  r.quantity,
  CASE upper(r.reason_code)
    WHEN 'DMG' THEN 'damaged'
    WHEN 'WSZ' THEN 'wrong_size'
    WHEN 'NLD' THEN 'not_as_described'
    WHEN 'CHG' THEN 'changed_mind'
    ELSE 'other'
  END AS reason,
  CAST(r.requested_at AS date) AS requested_on,
  r.requested_at,
  r.received_at,
  date_diff('day', s.shipped_on, CAST(r.requested_at AS date)) AS days_after_shipment,
  coalesce(r.refund_approved, false) AS refund_approved,
  -- Multiply before dividing: Trino's decimal division keeps the dividend's
  -- scale (2), so dividing first would round the unit price to cents.
  if(
    coalesce(r.refund_approved, false),
    CAST(p.paid_amount * r.quantity / nullif(p.paid_quantity, 0) AS decimal(12,2)),
    0
  ) AS refund_amount
FROM rma_requests AS r
INNER JOIN shipments AS s ON s.shipment_id = r.parcel_id
LEFT JOIN paid_per_sku AS p
  ON p.order_id = s.order_id
  AND p.sku = r.sku
