SELECT status, COUNT(*) AS parcels
FROM parcel_status
GROUP BY status
