SELECT * FROM nation
