SELECT * FROM lineitem
