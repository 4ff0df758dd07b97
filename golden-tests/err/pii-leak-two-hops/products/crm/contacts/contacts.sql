SELECT customer_id, CONCAT(email, ' (', country, ')') AS contact
FROM profiles
