WITH events AS (
  SELECT
    e.parcel_id AS shipment_id,
    e.event_code,
    e.event_at,
    e.promised_date,
    LAG(e.event_at) OVER (PARTITION BY e.parcel_id ORDER BY e.event_at) AS previous_event_at
  FROM tracking_events AS e
),

per_shipment AS (
  SELECT
    shipment_id,
    MIN(event_at) AS first_scan_at,
    MIN(IF(event_code = 'DELIVERED', event_at, NULL)) AS delivered_at,
    COUNTIF(event_code = 'DELIVERY_FAILED') AS failed_attempts,
    MAX(TIMESTAMP_DIFF(event_at, previous_event_at, HOUR)) AS longest_gap_hours,
    MAX(promised_date) AS promised_date
  FROM events
  GROUP BY shipment_id
),

-- The latest status-bearing scan (INFO scans only add a location).
last_status AS (
  SELECT
    e.parcel_id AS shipment_id,
    e.event_code AS last_event_code
  FROM tracking_events AS e
  WHERE e.event_code != 'INFO'
  QUALIFY ROW_NUMBER() OVER (PARTITION BY e.parcel_id ORDER BY e.event_at DESC) = 1
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
    WHEN l.last_event_code = 'RETURNED_TO_SENDER' THEN 'returned_to_sender'
    WHEN l.last_event_code IS NULL THEN 'not_scanned'
    ELSE 'in_transit'
  END AS delivery_status,
  TIMESTAMP_DIFF(p.delivered_at, p.first_scan_at, HOUR) AS transit_hours,
  IFNULL(p.failed_attempts, 0) AS failed_attempts,
  p.longest_gap_hours,
  p.promised_date,
  COALESCE(DATE(p.delivered_at), CURRENT_DATE()) > p.promised_date AS is_late
FROM shipments AS s
LEFT JOIN per_shipment AS p USING (shipment_id)
LEFT JOIN last_status AS l USING (shipment_id)
