-- Sessions per day and device, with per-day and overall totals.
WITH e AS (
  SELECT CAST(event_time AS date) AS day, device.category AS device_category, session_id, user_id
  FROM events
)
SELECT
  day,
  device_category,
  approx_distinct(session_id) AS sessions,
  count(DISTINCT user_id) AS users,
  grouping(day, device_category) AS is_total
FROM e
GROUP BY GROUPING SETS ((day, device_category), (day), ())
