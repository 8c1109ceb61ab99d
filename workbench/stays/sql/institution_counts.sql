-- Per institution: stays, same-institution readmissions within the window, short-gap
-- readmissions, expected readmissions by indirect standardisation, stays just under a limit.
-- Reads the episodes table. <age_band>: a CASE over e.age giving the band's label.
-- Indirect standardisation: every stay is an index stay; it is "readmitted" when the person's
-- next stay at the same institution starts 0..$window_days days after it ends. The region-wide
-- readmitted share of each (age band x diagnosis category) stratum, summed over an
-- institution's stays, is the number of readmissions it would have at the region's rates.
WITH flagged AS (
    SELECT
        e.*,
        ${age_band} AS age_band,
        COALESCE(e.dise_category, '') AS stratum_category,
        CASE WHEN nxt.first_mdtrt_id IS NULL THEN 0 ELSE 1 END AS readmitted
    FROM ${episodes} AS e
    LEFT JOIN (
        SELECT prev_same_mdtrt_id AS first_mdtrt_id
        FROM ${episodes}
        WHERE gap_prev_same_days BETWEEN 0 AND $window_days
    ) AS nxt ON nxt.first_mdtrt_id = e.mdtrt_id
),
stratum AS (
    SELECT age_band, stratum_category, AVG(CAST(readmitted AS DOUBLE)) AS rate
    FROM flagged
    GROUP BY age_band, stratum_category
)
SELECT
    f.fixmedins_code,
    MIN(f.fixmedins_name) AS fixmedins_name,
    MIN(f.fixmedins_type) AS fixmedins_type,
    MIN(f.hosp_lv) AS hosp_lv,
    MIN(f.peer_group) AS peer_group,
    COUNT(*) AS stays,
    COUNT(DISTINCT f.psn_no) AS persons,
    SUM(CASE WHEN f.gap_prev_same_days BETWEEN 0 AND $window_days THEN 1 ELSE 0 END) AS readmissions,
    SUM(CASE WHEN f.gap_prev_same_days BETWEEN $short_min AND $short_max THEN 1 ELSE 0 END) AS short_gap_readmissions,
    SUM(f.readmitted) AS readmitted_stays,
    SUM(s.rate) AS expected_readmissions,
    SUM(CASE WHEN f.gap_prev_any_days < 0 THEN 1 ELSE 0 END) AS overlapping_stays,
    SUM(CASE WHEN f.medfee_sumamt IS NOT NULL THEN 1 ELSE 0 END) AS billed_stays,
    SUM(CASE WHEN f.medfee_sumamt >= $cost_low AND f.medfee_sumamt < $cost_limit THEN 1 ELSE 0 END) AS near_cost_limit_stays,
    SUM(CASE WHEN f.los_days >= $los_low AND f.los_days < $los_limit THEN 1 ELSE 0 END) AS near_los_limit_stays
FROM flagged AS f
JOIN stratum AS s ON s.age_band = f.age_band AND s.stratum_category = f.stratum_category
GROUP BY f.fixmedins_code
ORDER BY f.fixmedins_code
