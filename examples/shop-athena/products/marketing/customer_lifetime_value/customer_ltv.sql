-- Revenue in the order's own currency: all our shops sell in EUR today.
WITH order_totals AS (
  SELECT
    o.customer_id,
    count(DISTINCT o.order_id) AS order_count,
    min(o.ordered_on) AS first_order_on,
    max(o.ordered_on) AS last_order_on,
    sum(o.total_amount) AS gross_revenue
  FROM orders AS o
  WHERE o.status <> 'cancelled'
  GROUP BY o.customer_id
),

refunds AS (
  SELECT
    o.customer_id,
    sum(r.refund_amount) AS refunded_amount
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
    coalesce(t.order_count, 0) AS order_count,
    coalesce(t.gross_revenue, 0) AS gross_revenue,
    coalesce(f.refunded_amount, 0) AS refunded_amount
  FROM customers AS c
  LEFT JOIN order_totals AS t ON t.customer_id = c.customer_id
  LEFT JOIN refunds AS f ON f.customer_id = c.customer_id
)

SELECT
  customer_id,
  upper(country_code) AS country,
  signup_channel,
  first_order_on,
  last_order_on,
  date_trunc('month', first_order_on) AS cohort_month,
  order_count,
  gross_revenue,
  refunded_amount,
  gross_revenue - refunded_amount AS net_revenue,
  -- decimal(38,2) / bigint keeps scale 2, rounded half up: already in cents.
  gross_revenue / nullif(order_count, 0) AS avg_order_value,
  date_diff('day', last_order_on, current_date) AS days_since_last_order,
  CASE
    WHEN order_count = 0 THEN 'prospect'
    WHEN gross_revenue - refunded_amount >= 1000 THEN 'high'
    WHEN gross_revenue - refunded_amount >= 250 THEN 'medium'
    ELSE 'low'
  END AS value_tier
FROM customer_value
