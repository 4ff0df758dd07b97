WITH shipped AS (
  SELECT
    DATE_TRUNC(d.shipped_on, WEEK(MONDAY)) AS week_start,
    IFNULL(d.carrier, 'unknown') AS carrier,
    o.country,
    d.shipment_id,
    d.delivery_status,
    d.transit_hours,
    d.is_late,
    d.failed_attempts
  FROM deliveries AS d
  INNER JOIN orders AS o ON o.order_id = d.order_id
),

returned AS (
  SELECT DISTINCT shipment_id
  FROM returns
)

SELECT
  s.week_start,
  s.carrier,
  s.country,
  COUNT(*) AS shipment_count,
  COUNTIF(s.delivery_status = 'delivered') AS delivered_count,
  ROUND(
    SAFE_DIVIDE(
      COUNTIF(s.delivery_status = 'delivered' AND NOT s.is_late),
      COUNTIF(s.delivery_status = 'delivered')
    ),
    4
  ) AS on_time_rate,
  ROUND(AVG(s.transit_hours), 1) AS avg_transit_hours,
  MAX(s.transit_hours) AS max_transit_hours,
  SUM(s.failed_attempts) AS failed_attempts,
  ROUND(SAFE_DIVIDE(COUNT(r.shipment_id), COUNT(*)), 4) AS return_rate
FROM shipped AS s
LEFT JOIN returned AS r ON r.shipment_id = s.shipment_id
GROUP BY s.week_start, s.carrier, s.country
