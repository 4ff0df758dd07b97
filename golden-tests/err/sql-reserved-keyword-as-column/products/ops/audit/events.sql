-- `range` and `at` are reserved in BigQuery: they must be quoted.
SELECT event_id, range, at
FROM events
