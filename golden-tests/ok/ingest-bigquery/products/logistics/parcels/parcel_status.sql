WITH latest_scan AS (
  SELECT parcel_id, status, scanned_at,
         ROW_NUMBER() OVER (PARTITION BY parcel_id ORDER BY scanned_at DESC) AS rn
  FROM scans
),
cheapest AS (
  SELECT MIN(price) AS price FROM carrier_rates WHERE dt >= DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY)
)
SELECT p.parcel_id, p.warehouse, p.weight_grams, s.status, s.scanned_at AS last_scan_at,
       DATE(p.created_at) AS created_on, (SELECT price FROM cheapest) AS cheapest_eur
FROM wms_parcels AS p
LEFT JOIN latest_scan AS s ON s.parcel_id = p.parcel_id AND s.rn = 1
