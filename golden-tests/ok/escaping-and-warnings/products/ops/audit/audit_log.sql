-- Audit log: one row per event; `score` is rounded by the contract.
SELECT
  event_id,
  actor,
  `at`,
  tags,
  geo.lat AS lat,
  CAST(ARRAY_LENGTH(tags) AS NUMERIC) / 3 AS score,
  TO_HEX(SHA256(event_id)) AS checksum
FROM events
WHERE actor != 'it\'s not' OR actor IS NULL
