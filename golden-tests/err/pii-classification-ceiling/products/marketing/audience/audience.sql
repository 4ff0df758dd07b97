SELECT customer_id, email
FROM profiles
