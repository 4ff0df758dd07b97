WITH sales AS (
  SELECT
    o.ordered_on AS revenue_date,
    o.country,
    o.order_id,
    o.customer_id,
    o.total_amount AS gross_amount,
    CAST(0 AS NUMERIC) AS refunded_amount
  FROM orders AS o
  WHERE o.status != 'cancelled'
),

refunds AS (
  SELECT
    r.requested_on AS revenue_date,
    o.country,
    CAST(NULL AS STRING) AS order_id,
    o.customer_id,
    CAST(0 AS NUMERIC) AS gross_amount,
    IFNULL(r.refund_amount, 0) AS refunded_amount
  FROM returns AS r
  INNER JOIN orders AS o USING (order_id)
  WHERE r.refund_approved
),

movements AS (
  SELECT * FROM sales
  UNION ALL
  SELECT * FROM refunds
),

daily AS (
  SELECT
    revenue_date,
    country,
    COUNT(DISTINCT order_id) AS order_count,
    COUNT(DISTINCT customer_id) AS customer_count,
    SUM(gross_amount) AS gross_revenue,
    SUM(refunded_amount) AS refunded_amount,
    ROUND(SAFE_DIVIDE(SUM(gross_amount), COUNT(DISTINCT order_id)), 2) AS avg_order_value
  FROM movements
  GROUP BY revenue_date, country
),

payments_daily AS (
  SELECT
    DATE(p.captured_at, 'Europe/Berlin') AS revenue_date,
    o.country,
    SUM(IF(p.payment_status = 'captured' AND NOT p.is_refund, p.amount, 0)) AS captured_amount,
    COUNTIF(p.payment_status = 'failed') AS failed_payments
  FROM payments AS p
  INNER JOIN orders AS o ON o.order_id = p.order_id
  GROUP BY revenue_date, country
)

SELECT
  revenue_date,
  country,
  EXTRACT(ISOWEEK FROM revenue_date) AS iso_week,
  d.order_count,
  d.customer_count,
  d.gross_revenue,
  d.refunded_amount,
  d.gross_revenue - d.refunded_amount AS net_revenue,
  d.avg_order_value,
  IFNULL(pd.captured_amount, 0) AS captured_amount,
  IFNULL(pd.failed_payments, 0) AS failed_payments
FROM daily AS d
LEFT JOIN payments_daily AS pd USING (revenue_date, country)
