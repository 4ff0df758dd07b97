-- Bestellungen aus ä Ländern (saved as Latin-1)
SELECT order_id, country FROM shop_orders
