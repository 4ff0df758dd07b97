-- Everything about an account except the ways to identify or contact the
-- person behind it (email, names, phone, birth date). Trino has no
-- SELECT * EXCEPT, so the columns that may be published are listed: a column
-- added to the export stays out of this port until someone adds it here.
SELECT
  account_id AS customer_id,
  country_code,
  preferred_language,
  signup_at,
  signup_channel,
  updated_at
FROM accounts
WHERE NOT is_deleted
