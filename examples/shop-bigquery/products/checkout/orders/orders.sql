-- One row per order. The checkout service still writes a few legacy status
-- values; they are mapped onto the five statuses we publish.
SELECT
  o.order_id,
  o.customer_id,
  LOWER(TRIM(o.customer_email)) AS customer_email,
  o.created_at AS ordered_at,
  DATE(o.created_at, 'Europe/Berlin') AS ordered_on,
  CASE LOWER(o.status)
    WHEN 'new' THEN 'placed'
    WHEN 'pending_payment' THEN 'placed'
    WHEN 'canceled' THEN 'cancelled'
    ELSE LOWER(o.status)
  END AS status,
  UPPER(IFNULL(o.shipping_country, 'ZZ')) AS country,
  o.currency,
  o.subtotal AS subtotal_amount,
  COALESCE(o.shipping_fee, 0) AS shipping_amount,
  COALESCE(o.discount_total, 0) AS discount_amount,
  o.subtotal + COALESCE(o.shipping_fee, 0) - COALESCE(o.discount_total, 0) AS total_amount,
  o.voucher_code IS NOT NULL AS used_voucher,
  o.updated_at
FROM shop_orders AS o
WHERE NOT IFNULL(o.is_test, FALSE)
