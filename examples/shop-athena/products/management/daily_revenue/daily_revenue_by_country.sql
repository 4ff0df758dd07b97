WITH sales AS (
  SELECT
    o.ordered_on AS revenue_date,
    o.country,
    o.order_id,
    o.customer_id,
    o.total_amount AS gross_amount,
    CAST(0 AS decimal(12,2)) AS refunded_amount
  FROM orders AS o
  WHERE o.status <> 'cancelled'
),

refunds AS (
  SELECT
    r.requested_on AS revenue_date,
    o.country,
    CAST(NULL AS varchar) AS order_id,
    o.customer_id,
    CAST(0 AS decimal(12,2)) AS gross_amount,
    coalesce(r.refund_amount, 0) AS refunded_amount
  FROM returns AS r
  INNER JOIN orders AS o USING (order_id)
  WHERE r.refund_approved
),

movements AS (
  SELECT * FROM sales
  UNION ALL
  SELECT * FROM refunds
),

-- Sums of decimal(12,2) are decimal(38,2) in Trino. Dividing a decimal(38,2)
-- by a count keeps scale 2 (rounded half up): the average is in cents.
daily AS (
  SELECT
    revenue_date,
    country,
    count(DISTINCT order_id) AS order_count,
    count(DISTINCT customer_id) AS customer_count,
    sum(gross_amount) AS gross_revenue,
    sum(refunded_amount) AS refunded_amount,
    sum(gross_amount) / nullif(count(DISTINCT order_id), 0) AS avg_order_value
  FROM movements
  GROUP BY revenue_date, country
),

-- Trino cannot GROUP BY a select alias: group by position.
payments_daily AS (
  SELECT
    CAST(p.captured_at AT TIME ZONE 'Europe/Berlin' AS date) AS revenue_date,
    o.country,
    sum(if(p.payment_status = 'captured' AND NOT p.is_refund, p.amount, 0)) AS captured_amount,
    count_if(p.payment_status = 'failed') AS failed_payments
  FROM payments AS p
  INNER JOIN orders AS o ON o.order_id = p.order_id
  GROUP BY 1, 2
)

SELECT
  revenue_date,
  country,
  week(revenue_date) AS iso_week,
  d.order_count,
  d.customer_count,
  d.gross_revenue,
  d.refunded_amount,
  d.gross_revenue - d.refunded_amount AS net_revenue,
  d.avg_order_value,
  coalesce(pd.captured_amount, 0) AS captured_amount,
  coalesce(pd.failed_payments, 0) AS failed_payments
FROM daily AS d
LEFT JOIN payments_daily AS pd USING (revenue_date, country)
