SELECT event_id, label
FROM `acme-data.models.classify`(0.5)
