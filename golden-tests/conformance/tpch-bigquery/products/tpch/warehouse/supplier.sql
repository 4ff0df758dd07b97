SELECT * FROM supplier
