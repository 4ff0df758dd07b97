-- Refunds are based on what the customer actually paid for the SKU in that
-- order (after line discounts), not on today's list price.
WITH paid_per_sku AS (
  SELECT
    order_id,
    sku,
    SUM(line_amount) AS paid_amount,
    SUM(quantity) AS paid_quantity
  FROM order_items
  GROUP BY order_id, sku
)

SELECT
  r.rma_id AS return_id,
  s.order_id,
  r.parcel_id AS shipment_id,
  r.sku,
  r.quantity,
  CASE UPPER(r.reason_code)
    WHEN 'DMG' THEN 'damaged'
    WHEN 'WSZ' THEN 'wrong_size'
    WHEN 'NLD' THEN 'not_as_described'
    WHEN 'CHG' THEN 'changed_mind'
    ELSE 'other'
  END AS reason,
  DATE(r.requested_at) AS requested_on,
  r.requested_at,
  r.received_at,
  DATE_DIFF(DATE(r.requested_at), s.shipped_on, DAY) AS days_after_shipment,
  IFNULL(r.refund_approved, FALSE) AS refund_approved,
  IF(
    IFNULL(r.refund_approved, FALSE),
    ROUND(SAFE_DIVIDE(p.paid_amount, p.paid_quantity) * r.quantity, 2),
    0
  ) AS refund_amount
FROM rma_requests AS r
INNER JOIN shipments AS s ON s.shipment_id = r.parcel_id
LEFT JOIN paid_per_sku AS p
  ON p.order_id = s.order_id
  AND p.sku = r.sku
