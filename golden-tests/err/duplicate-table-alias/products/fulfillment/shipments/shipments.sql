SELECT
  p.parcel_id AS shipment_id,
  p.order_id,
  p.customer_id,
  p.carrier,
  DATE(p.handed_over) AS shipped_on
FROM parcels AS p
INNER JOIN orders AS p ON p.order_id = p.order_id
