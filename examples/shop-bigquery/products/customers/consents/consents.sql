WITH latest AS (
  SELECT
    account_id,
    purpose,
    MAX(IF(granted, recorded_at, NULL)) AS last_granted_at,
    MAX(IF(NOT granted, recorded_at, NULL)) AS last_revoked_at
  FROM consent_log
  GROUP BY account_id, purpose
),

state AS (
  SELECT
    account_id,
    purpose,
    last_granted_at IS NOT NULL
      AND (last_revoked_at IS NULL OR last_granted_at > last_revoked_at) AS opted_in,
    GREATEST(
      COALESCE(last_granted_at, last_revoked_at),
      COALESCE(last_revoked_at, last_granted_at)
    ) AS changed_at
  FROM latest
)

SELECT
  account_id AS customer_id,
  LOGICAL_OR(purpose = 'newsletter' AND opted_in) AS newsletter_opt_in,
  LOGICAL_OR(purpose = 'personalisation' AND opted_in) AS personalisation_opt_in,
  LOGICAL_OR(purpose = 'third_party' AND opted_in) AS third_party_opt_in,
  MAX(changed_at) AS consent_updated_at
FROM state
GROUP BY account_id
