SELECT
  a.account_id AS customer_id,
  LOWER(a.email) AS email,
  a.first_name,
  TRIM(CONCAT(IFNULL(a.first_name, ''), ' ', IFNULL(a.last_name, ''))) AS full_name,
  a.phone,
  CASE
    WHEN a.birth_date IS NULL THEN 'unknown'
    WHEN DATE_DIFF(CURRENT_DATE(), a.birth_date, YEAR) < 25 THEN 'under_25'
    WHEN DATE_DIFF(CURRENT_DATE(), a.birth_date, YEAR) < 35 THEN '25_34'
    WHEN DATE_DIFF(CURRENT_DATE(), a.birth_date, YEAR) < 50 THEN '35_49'
    ELSE '50_plus'
  END AS age_band,
  UPPER(a.country_code) AS country,
  COALESCE(a.preferred_language, 'en') AS language,
  a.signup_at,
  DATE(a.signup_at) AS signup_on,
  IFNULL(a.signup_channel, 'unknown') AS signup_channel,
  IFNULL(LOWER(m.tier), 'none') AS loyalty_tier,
  IFNULL(SAFE_CAST(m.points_balance AS INT64), 0) AS loyalty_points,
  m.account_id IS NOT NULL AS is_loyalty_member,
  a.updated_at
FROM accounts AS a
LEFT JOIN loyalty_members AS m ON m.account_id = a.account_id
WHERE NOT a.is_deleted
