WITH events AS (
  SELECT
    e.parcel_id AS shipment_id,
    e.event_code,
    e.event_at,
    e.promised_date,
    lag(e.event_at) OVER (PARTITION BY e.parcel_id ORDER BY e.event_at) AS previous_event_at
  FROM tracking_events AS e
),

per_shipment AS (
  SELECT
    shipment_id,
    min(event_at) AS first_scan_at,
    min(event_at) FILTER (WHERE event_code = 'DELIVERED') AS delivered_at,
    count_if(event_code = 'DELIVERY_FAILED') AS failed_attempts,
    max(date_diff('hour', previous_event_at, event_at)) AS longest_gap_hours,
    max(promised_date) AS promised_date,
    -- The latest status-bearing scan (INFO scans only add a location).
    max_by(event_code, event_at) FILTER (WHERE event_code <> 'INFO') AS last_event_code
  FROM events
  GROUP BY shipment_id
)

SELECT
  shipment_id,
  s.order_id,
  s.carrier,
  s.shipped_on,
  p.first_scan_at,
  p.delivered_at,
  CASE
    WHEN p.delivered_at IS NOT NULL THEN 'delivered'
    WHEN p.last_event_code = 'RETURNED_TO_SENDER' THEN 'returned_to_sender'
    WHEN p.last_event_code IS NULL THEN 'not_scanned'
    ELSE 'in_transit'
  END AS delivery_status,
  date_diff('hour', p.first_scan_at, p.delivered_at) AS transit_hours,
  coalesce(p.failed_attempts, 0) AS failed_attempts,
  p.longest_gap_hours,
  p.promised_date,
  coalesce(CAST(p.delivered_at AS date), current_date) > p.promised_date AS is_late
FROM shipments AS s
LEFT JOIN per_shipment AS p USING (shipment_id)
