SELECT actor, COUNT(*) AS events, MAX(`at`) AS last_seen
FROM events
GROUP BY actor
