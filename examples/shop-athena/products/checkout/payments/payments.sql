-- The PSP report repeats a transaction for every retry and status change:
-- keep only its latest event (Trino has no QUALIFY: rank, then filter).
WITH ranked_events AS (
  SELECT
    t.transaction_id,
    t.merchant_reference,
    t.method,
    t.result_code,
    t.amount_minor,
    t.currency,
    t.is_refund,
    t.event_time,
    row_number() OVER (
      PARTITION BY t.transaction_id
      ORDER BY t.event_time DESC, t.attempt DESC
    ) AS event_rank
  FROM psp_transactions AS t
  WHERE t.merchant_reference IS NOT NULL
),

transactions AS (
  SELECT
    e.transaction_id,
    e.merchant_reference AS order_id,
    lower(e.method) AS payment_method,
    CASE
      WHEN e.result_code IN ('AUTHORISED', 'CAPTURED', 'SETTLED') THEN 'captured'
      WHEN e.result_code = 'REFUSED' THEN 'failed'
      WHEN e.result_code = 'REFUNDED' THEN 'refunded'
      ELSE 'pending'
    END AS payment_status,
    -- decimal(12,2) / integer keeps scale 2: cents to major units, exactly.
    CAST(e.amount_minor AS decimal(12,2)) / 100 AS amount,
    upper(e.currency) AS currency,
    coalesce(e.is_refund, false) AS is_refund,
    e.event_time
  FROM ranked_events AS e
  WHERE e.event_rank = 1
)

SELECT
  tx.transaction_id AS payment_id,
  tx.order_id,
  o.customer_id,
  tx.payment_method,
  tx.payment_status,
  if(tx.is_refund, -tx.amount, tx.amount) AS amount,
  coalesce(tx.currency, o.currency) AS currency,
  tx.is_refund,
  tx.event_time AS captured_at,
  sum(if(tx.is_refund, -tx.amount, tx.amount)) OVER (
    PARTITION BY tx.order_id
    ORDER BY tx.event_time
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS order_balance,
  date_diff('minute', o.ordered_at, tx.event_time) AS minutes_after_order
FROM transactions AS tx
INNER JOIN orders AS o ON o.order_id = tx.order_id
