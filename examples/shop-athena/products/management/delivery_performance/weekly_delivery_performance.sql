WITH shipped AS (
  SELECT
    date_trunc('week', d.shipped_on) AS week_start,  -- ISO weeks start on Monday
    coalesce(d.carrier, 'unknown') AS carrier,
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

-- Counts are bigint: cast to double before dividing, or Trino divides
-- integers. A group has at least one row, so count(*) is never 0.
SELECT
  s.week_start,
  s.carrier,
  s.country,
  count(*) AS shipment_count,
  count_if(s.delivery_status = 'delivered') AS delivered_count,
  round(
    CAST(count_if(s.delivery_status = 'delivered' AND NOT s.is_late) AS double)
      / nullif(count_if(s.delivery_status = 'delivered'), 0),
    4
  ) AS on_time_rate,
  round(avg(s.transit_hours), 1) AS avg_transit_hours,
  max(s.transit_hours) AS max_transit_hours,
  sum(s.failed_attempts) AS failed_attempts,
  round(CAST(count(r.shipment_id) AS double) / count(*), 4) AS return_rate
FROM shipped AS s
LEFT JOIN returned AS r ON r.shipment_id = s.shipment_id
GROUP BY s.week_start, s.carrier, s.country
