-- One row per order. The checkout service still writes a few legacy status
-- values; they are mapped onto the five statuses we publish.
--
-- created_at is a UTC timestamp. Athena runs every query in UTC, so
-- AT TIME ZONE turns it into Berlin wall-clock time (a timestamp with time
-- zone) and the cast to date takes the Berlin calendar day.
SELECT
  o.order_id,
  o.customer_id,
  lower(trim(o.customer_email)) AS customer_email,
  o.created_at AS ordered_at,
  CAST(o.created_at AT TIME ZONE 'Europe/Berlin' AS date) AS ordered_on,
  CASE lower(o.status)
    WHEN 'new' THEN 'placed'
    WHEN 'pending_payment' THEN 'placed'
    WHEN 'canceled' THEN 'cancelled'
    ELSE lower(o.status)
  END AS status,
  upper(coalesce(o.shipping_country, 'ZZ')) AS country,
  o.currency,
  o.subtotal AS subtotal_amount,
  coalesce(o.shipping_fee, 0) AS shipping_amount,
  coalesce(o.discount_total, 0) AS discount_amount,
  -- decimal(12,2) + decimal(12,2) - decimal(12,2) is a decimal(14,2) in
  -- Trino; an order total fits the published decimal(12,2).
  CAST(
    o.subtotal + coalesce(o.shipping_fee, 0) - coalesce(o.discount_total, 0)
    AS decimal(12,2)
  ) AS total_amount,
  o.voucher_code IS NOT NULL AS used_voucher,
  o.updated_at
FROM shop_orders AS o
WHERE NOT coalesce(o.is_test, false)
