SELECT l.parcel_id, l.label_no
FROM label_prints AS l
LEFT JOIN wms_parcels AS p ON p.parcel_id = l.parcel_id
WHERE p.parcel_id IS NULL
