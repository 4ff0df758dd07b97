SELECT account_id AS customer_id, LOWER(email) AS email, country
FROM accounts
