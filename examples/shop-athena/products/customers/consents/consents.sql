WITH latest AS (
  SELECT
    account_id,
    purpose,
    max(recorded_at) FILTER (WHERE granted) AS last_granted_at,
    max(recorded_at) FILTER (WHERE NOT granted) AS last_revoked_at
  FROM consent_log
  GROUP BY account_id, purpose
),

state AS (
  SELECT
    account_id,
    purpose,
    last_granted_at IS NOT NULL
      AND (last_revoked_at IS NULL OR last_granted_at > last_revoked_at) AS opted_in,
    greatest(
      coalesce(last_granted_at, last_revoked_at),
      coalesce(last_revoked_at, last_granted_at)
    ) AS changed_at
  FROM latest
),

-- One map per customer: purpose -> opted in. A purpose the customer never
-- answered is missing from the map, which counts as "no".
per_customer AS (
  SELECT
    account_id,
    map_agg(purpose, opted_in) AS opted_in_by_purpose,
    max(changed_at) AS consent_updated_at
  FROM state
  GROUP BY account_id
)

SELECT
  account_id AS customer_id,
  coalesce(element_at(opted_in_by_purpose, 'newsletter'), false) AS newsletter_opt_in,
  coalesce(element_at(opted_in_by_purpose, 'personalisation'), false) AS personalisation_opt_in,
  coalesce(element_at(opted_in_by_purpose, 'third_party'), false) AS third_party_opt_in,
  consent_updated_at
FROM per_customer
