SELECT
  a.customer_id,
  a.country,
  (SELECT MAX(s.shipped_on) FROM shipments AS s WHERE s.customer_id = a.customer_id) AS last_shipped_on
FROM accounts AS a
