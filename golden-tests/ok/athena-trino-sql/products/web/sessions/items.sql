-- Basket items with their position (WITH ORDINALITY), zipped with the tags.
SELECT
  e.session_id,
  i.n AS position,
  i.sku,
  i.quantity,
  i.quantity * i.price AS line_total
FROM events AS e
CROSS JOIN UNNEST(e.items) WITH ORDINALITY AS i (sku, quantity, price, n)
WHERE i.quantity > 0
