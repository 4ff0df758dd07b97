-- Revenue in the order's own currency: all our shops sell in EUR today.
WITH order_totals AS (
  SELECT
    o.customer_id,
    COUNT(DISTINCT o.order_id) AS order_count,
    MIN(o.ordered_on) AS first_order_on,
    MAX(o.ordered_on) AS last_order_on,
    SUM(o.total_amount) AS gross_revenue
  FROM orders AS o
  WHERE o.status != 'cancelled'
  GROUP BY o.customer_id
),

refunds AS (
  SELECT
    o.customer_id,
    SUM(r.refund_amount) AS refunded_amount
  FROM returns AS r
  INNER JOIN orders AS o USING (order_id)
  WHERE r.refund_approved
  GROUP BY o.customer_id
),

customer_value AS (
  SELECT
    c.customer_id,
    c.country_code,
    c.signup_channel,
    t.first_order_on,
    t.last_order_on,
    IFNULL(t.order_count, 0) AS order_count,
    IFNULL(t.gross_revenue, 0) AS gross_revenue,
    IFNULL(f.refunded_amount, 0) AS refunded_amount
  FROM customers AS c
  LEFT JOIN order_totals AS t ON t.customer_id = c.customer_id
  LEFT JOIN refunds AS f ON f.customer_id = c.customer_id
)

SELECT
  customer_id,
  UPPER(country_code) AS country,
  signup_channel,
  first_order_on,
  last_order_on,
  DATE_TRUNC(first_order_on, MONTH) AS cohort_month,
  order_count,
  gross_revenue,
  refunded_amount,
  gross_revenue - refunded_amount AS net_revenue,
  ROUND(SAFE_DIVIDE(gross_revenue, order_count), 2) AS avg_order_value,
  DATE_DIFF(CURRENT_DATE(), last_order_on, DAY) AS days_since_last_order,
  CASE
    WHEN order_count = 0 THEN 'prospect'
    WHEN gross_revenue - refunded_amount >= 1000 THEN 'high'
    WHEN gross_revenue - refunded_amount >= 250 THEN 'medium'
    ELSE 'low'
  END AS value_tier
FROM customer_value
