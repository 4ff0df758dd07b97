SELECT
  a.account_id AS customer_id,
  lower(a.email) AS email,
  a.first_name,
  -- "First Last", a missing part as the empty string, then trimmed.
  trim(array_join(transform(ARRAY[a.first_name, a.last_name], part -> coalesce(part, '')), ' ')) AS full_name,
  a.phone,
  CASE
    WHEN a.birth_date IS NULL THEN 'unknown'
    WHEN date_diff('year', a.birth_date, current_date) < 25 THEN 'under_25'
    WHEN date_diff('year', a.birth_date, current_date) < 35 THEN '25_34'
    WHEN date_diff('year', a.birth_date, current_date) < 50 THEN '35_49'
    ELSE '50_plus'
  END AS age_band,
  upper(a.country_code) AS country,
  coalesce(a.preferred_language, 'en') AS language,
  a.signup_at,
  CAST(a.signup_at AS date) AS signup_on,
  coalesce(a.signup_channel, 'unknown') AS signup_channel,
  coalesce(lower(m.tier), 'none') AS loyalty_tier,
  coalesce(try_cast(m.points_balance AS bigint), 0) AS loyalty_points,
  m.account_id IS NOT NULL AS is_loyalty_member,
  a.updated_at
FROM accounts AS a
LEFT JOIN loyalty_members AS m ON m.account_id = a.account_id
WHERE NOT a.is_deleted
