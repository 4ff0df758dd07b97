SELECT
  order_id,
  -- filter needs a boolean lambda; length() is a number.
  filter(tags, t -> length(t)) AS long_tags,
  -- varchar + integer has no operator, inside the lambda too.
  transform(tags, t -> t + 1) AS bumped,
  transform(lines, l -> l.qty * 2) AS doubled
FROM raw_orders
