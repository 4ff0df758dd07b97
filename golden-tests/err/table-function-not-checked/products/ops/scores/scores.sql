SELECT event_id, scor AS score
FROM events
