SELECT * FROM region
