SELECT
  p.parcel_id AS shipment_id,
  p.order_id,
  (SELECT o.customer_id, o.status FROM orders AS o WHERE o.order_id = p.order_id) AS customer_id,
  p.carrier,
  DATE(p.handed_over) AS shipped_on
FROM parcels AS p
