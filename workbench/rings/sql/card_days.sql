-- A card used at many pharmacies on one day (代刷 / 套现): one row per person and day.
SELECT
    'card_many_pharmacies' AS signal,
    day,
    psn_no,
    CAST(NULL AS VARCHAR) AS dr_code,
    string_agg(DISTINCT fixmedins_code, ';' ORDER BY fixmedins_code) AS fixmedins_code,
    count(*) AS events,
    count(DISTINCT fixmedins_code) AS distinct_count,
    CAST(sum(hifp_pay) AS DECIMAL(18,2)) AS hifp_pay,
    CAST(sum(medfee_sumamt) AS DECIMAL(18,2)) AS medfee_sumamt
FROM rings_visits
WHERE purchase
GROUP BY psn_no, day
HAVING count(DISTINCT fixmedins_code) >= {min_pharmacies}
