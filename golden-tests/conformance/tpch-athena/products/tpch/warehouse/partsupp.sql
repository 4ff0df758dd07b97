SELECT * FROM partsupp
