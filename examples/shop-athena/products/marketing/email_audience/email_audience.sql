SELECT
  p.customer_id,
  p.email,
  p.first_name,
  p.language,
  p.country,
  l.value_tier,
  l.days_since_last_order,
  c.personalisation_opt_in AS may_personalise,
  CASE
    WHEN coalesce(l.order_count, 0) = 0 THEN 'welcome'
    WHEN l.days_since_last_order > 180 THEN 'win_back'
    WHEN l.value_tier = 'high' THEN 'vip'
    ELSE 'regular'
  END AS campaign_segment
FROM profiles AS p
INNER JOIN consents AS c ON c.customer_id = p.customer_id
LEFT JOIN ltv AS l ON l.customer_id = p.customer_id
WHERE c.newsletter_opt_in
  AND regexp_like(p.email, '.@.')  -- at least one character either side of the @
