-- Sessions: aggregates, lambdas, map and row access, JSON, regexps, date
-- functions and a window, as Trino types them.
WITH basket AS (
  SELECT
    e.session_id,
    sum(i.quantity * i.price) AS order_total,
    array_sort(array_distinct(array_agg(i.sku))) AS skus,
    count_if(i.quantity > 5) AS big_baskets
  FROM events AS e
  CROSS JOIN UNNEST(e.items) AS i (sku, quantity, price)
  GROUP BY e.session_id
),
sessions AS (
  SELECT
    session_id,
    arbitrary(user_id) AS user_id,
    min(event_time) AS started_at,
    max(event_time) AS ended_at,
    count(*) AS events,
    count(*) FILTER (WHERE event_name = 'page_view') AS page_views,
    approx_distinct(page_url) AS distinct_pages,
    min_by(page_url, event_time) AS first_page,
    max_by(event_name, event_time) AS last_event,
    listagg(event_name, '>') WITHIN GROUP (ORDER BY event_time) AS event_path,
    arbitrary(device.category) AS device_category,
    bool_or(device.is_mobile) AS is_mobile,
    max(element_at(properties, 'utm_campaign')) AS campaign,
    max(properties['referrer']) AS referrer,
    max(json_extract_scalar(payload, '$.amount')) AS amount_text,
    flatten(array_agg(tags)) AS tags
  FROM events
  GROUP BY session_id
)
SELECT
  s.session_id,
  s.user_id,
  s.started_at,
  CAST(s.started_at AS date) AS started_on,
  s.ended_at,
  date_diff('second', s.started_at, s.ended_at) AS duration_seconds,
  s.events,
  s.page_views,
  s.distinct_pages,
  s.first_page,
  s.last_event,
  s.event_path,
  s.device_category,
  s.is_mobile,
  s.campaign,
  b.order_total,
  b.skus,
  CAST(ROW(element_at(b.skus, 1), cardinality(b.skus)) AS row(sku varchar, count bigint)) AS first_sku,
  array_join(b.skus, ',') AS sku_list,
  coalesce(b.big_baskets, 0) AS big_baskets,
  transform(s.tags, t -> length(t)) AS tag_lengths,
  any_match(s.tags, t -> regexp_like(t, '^promo')) AS has_promo_tag,
  date_trunc('month', s.started_at) AS month,
  date_add('day', 1, CAST(s.started_at AS date)) AS next_day,
  format_datetime(s.started_at, 'YYYY-''W''ww') AS week_label,
  url_extract_host(s.first_page) AS host,
  regexp_extract(s.first_page, '/([a-z]+)/', 1) AS section,
  row_number() OVER (ORDER BY b.order_total DESC NULLS LAST, s.session_id) AS revenue_rank,
  try(CAST(try_cast(s.amount_text AS double) AS varchar)) AS amount_text
FROM sessions AS s
LEFT JOIN basket AS b ON b.session_id = s.session_id
WHERE s.started_at >= TIMESTAMP '2024-01-01 00:00:00'
  AND s.ended_at - s.started_at < INTERVAL '1' DAY
