-- Everything about an account except the ways to identify or contact the
-- person behind it.
SELECT
  account_id AS customer_id,
  * EXCEPT (account_id, email, first_name, last_name, phone, birth_date, is_deleted)
FROM accounts
WHERE NOT is_deleted
