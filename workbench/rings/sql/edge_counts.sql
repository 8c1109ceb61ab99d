-- Weighted edges of the three kinds (rings_edge_counts).
--   psn_dr        patient - doctor: visits with the doctor (outpatient, or a purchase on their prescription)
--   psn_pharmacy  patient - pharmacy: purchases ('41')
--   dr_pharmacy   doctor - pharmacy: purchases linked to the doctor (rx or same-day sequence)
-- n: events, days: distinct days, weeks: distinct calendar weeks (Monday to Sunday, counted from
-- Monday 2000-01-03: sqlglot's Spark form of week functions differs), patients: distinct persons,
-- rx / same_day: linked purchases of each kind, hifp_pay / medfee_sumamt: money of the events
-- (exact, fund share may be null). (The lift is added by edges.sql.)
SELECT 'psn_dr' AS kind, psn_no AS a, dr_code AS b,
       count(*) AS n, count(DISTINCT day) AS days,
       count(DISTINCT floor(DATE_DIFF('day', DATE '2000-01-03', day) / 7)) AS weeks, 1 AS patients,
       count(*) FILTER (WHERE purchase) AS rx, 0 AS same_day,
       CAST(sum(hifp_pay) AS DECIMAL(18,2)) AS hifp_pay,
       CAST(sum(medfee_sumamt) AS DECIMAL(18,2)) AS medfee_sumamt
FROM rings_visits WHERE dr_code IS NOT NULL
GROUP BY psn_no, dr_code
UNION ALL
SELECT 'psn_pharmacy', psn_no, fixmedins_code,
       count(*), count(DISTINCT day), count(DISTINCT floor(DATE_DIFF('day', DATE '2000-01-03', day) / 7)), 1,
       count(*) FILTER (WHERE dr_code IS NOT NULL), 0,
       CAST(sum(hifp_pay) AS DECIMAL(18,2)), CAST(sum(medfee_sumamt) AS DECIMAL(18,2))
FROM rings_visits WHERE purchase
GROUP BY psn_no, fixmedins_code
UNION ALL
SELECT 'dr_pharmacy', dr_code, fixmedins_code,
       count(*), count(DISTINCT day), count(DISTINCT floor(DATE_DIFF('day', DATE '2000-01-03', day) / 7)),
       count(DISTINCT psn_no),
       count(*) FILTER (WHERE rx), count(*) FILTER (WHERE same_day),
       CAST(sum(hifp_pay) AS DECIMAL(18,2)), CAST(sum(medfee_sumamt) AS DECIMAL(18,2))
FROM rings_links
GROUP BY dr_code, fixmedins_code
