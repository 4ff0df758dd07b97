SELECT p.parcel_id AS shipment_id, o.order_id, p.carrier,
       o.customer_email, CAST(p.handed_over AS date) AS shipped_on
FROM parcels AS p
JOIN orders AS o ON o.order_id = p.order_id
