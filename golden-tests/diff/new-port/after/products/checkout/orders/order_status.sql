SELECT status, COUNT(*) AS orders
FROM shop_orders
GROUP BY status
