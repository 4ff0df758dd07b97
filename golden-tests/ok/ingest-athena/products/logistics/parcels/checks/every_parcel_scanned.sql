-- Parcels created more than two days ago that no hub has scanned.
SELECT parcel_id, created_on
FROM parcel_status
WHERE last_scan_at IS NULL
  AND created_on < current_date - INTERVAL '2' DAY
