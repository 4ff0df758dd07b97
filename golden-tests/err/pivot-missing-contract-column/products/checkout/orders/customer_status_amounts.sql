SELECT
  customer_id,
  paid AS paid_amount,
  cancelled AS cancelled_amount
FROM (SELECT customer_id, status, amount FROM shop_orders)
PIVOT (SUM(amount) FOR status IN ('paid', 'cancelled'))
