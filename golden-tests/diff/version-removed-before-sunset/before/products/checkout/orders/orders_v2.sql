SELECT order_id, amount, status
FROM shop_orders
