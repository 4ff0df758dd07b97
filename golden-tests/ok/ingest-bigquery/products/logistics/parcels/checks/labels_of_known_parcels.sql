SELECT l.parcel_id, l.label_no
FROM label_prints AS l
LEFT JOIN wms_parcels AS p ON p.parcel_id = l.parcel_id
-- test prints carry the label template's placeholder, {{parcel_id}}, as their id
WHERE p.parcel_id IS NULL AND COALESCE(l.parcel_id, '') NOT LIKE '{{%}}'
