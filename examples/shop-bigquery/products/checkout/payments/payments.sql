-- The PSP report repeats a transaction for every retry and status change:
-- keep only its latest event.
WITH transactions AS (
  SELECT
    t.transaction_id,
    t.merchant_reference AS order_id,
    LOWER(t.method) AS payment_method,
    CASE
      WHEN t.result_code IN ('AUTHORISED', 'CAPTURED', 'SETTLED') THEN 'captured'
      WHEN t.result_code = 'REFUSED' THEN 'failed'
      WHEN t.result_code = 'REFUNDED' THEN 'refunded'
      ELSE 'pending'
    END AS payment_status,
    CAST(t.amount_minor AS NUMERIC) / 100 AS amount,
    UPPER(t.currency) AS currency,
    IFNULL(t.is_refund, FALSE) AS is_refund,
    t.event_time
  FROM psp_transactions AS t
  WHERE t.merchant_reference IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY t.transaction_id
    ORDER BY t.event_time DESC, t.attempt DESC
  ) = 1
)

SELECT
  tx.transaction_id AS payment_id,
  tx.order_id,
  o.customer_id,
  tx.payment_method,
  tx.payment_status,
  IF(tx.is_refund, -tx.amount, tx.amount) AS amount,
  COALESCE(tx.currency, o.currency) AS currency,
  tx.is_refund,
  tx.event_time AS captured_at,
  SUM(IF(tx.is_refund, -tx.amount, tx.amount)) OVER (
    PARTITION BY tx.order_id
    ORDER BY tx.event_time
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS order_balance,
  TIMESTAMP_DIFF(tx.event_time, o.ordered_at, MINUTE) AS minutes_after_order
FROM transactions AS tx
INNER JOIN orders AS o ON o.order_id = tx.order_id
