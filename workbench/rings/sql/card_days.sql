-- A card used at many pharmacies on one day (代刷 / 套现): one row per person and day.
-- (Per pharmacy first, then per day: Spark cannot run an ordered DISTINCT string_agg beside
-- another DISTINCT aggregate, so the list is made of rows that are already distinct.)
WITH pharmacy_day AS (
    SELECT psn_no, day, fixmedins_code, count(*) AS events,
           sum(hifp_pay) AS hifp_pay, sum(medfee_sumamt) AS medfee_sumamt
    FROM rings_visits
    WHERE purchase
    GROUP BY psn_no, day, fixmedins_code
)
SELECT
    'card_many_pharmacies' AS signal,
    day,
    psn_no,
    CAST(NULL AS VARCHAR) AS dr_code,
    string_agg(fixmedins_code, ';' ORDER BY fixmedins_code) AS fixmedins_code,
    CAST(sum(events) AS BIGINT) AS events,
    count(*) AS distinct_count,
    CAST(sum(hifp_pay) AS DECIMAL(18,2)) AS hifp_pay,
    CAST(sum(medfee_sumamt) AS DECIMAL(18,2)) AS medfee_sumamt
FROM pharmacy_day
GROUP BY psn_no, day
HAVING count(*) >= ${min_pharmacies}
