-- A doctor with more visits in one day than a person can see (all visits naming them as the
-- attending or prescribing doctor, at any institution); the doctor's own institution from dr.
-- Money is summed only over the visits of the flagged days.
WITH v AS (
    SELECT NULLIF(trim(atddr_no), '') AS dr_code, CAST(begntime AS DATE) AS day, psn_no, mdtrt_id
    FROM mdtrt
    WHERE begntime IS NOT NULL AND atddr_no IS NOT NULL
),
d AS (
    SELECT dr_code, day, count(*) AS events, count(DISTINCT psn_no) AS distinct_count
    FROM v WHERE dr_code IS NOT NULL
    GROUP BY dr_code, day
    HAVING count(*) > ${max_visits}
),
flagged AS (
    SELECT v.dr_code, v.day, v.mdtrt_id FROM v JOIN d ON d.dr_code = v.dr_code AND d.day = v.day
),
money AS (${money_rows}),
m AS (
    SELECT f.dr_code, f.day,
           CAST(sum(money.hifp_pay) AS DECIMAL(18,2)) AS hifp_pay,
           CAST(sum(money.medfee_sumamt) AS DECIMAL(18,2)) AS medfee_sumamt
    FROM flagged f JOIN money ON money.mdtrt_id = f.mdtrt_id
    GROUP BY f.dr_code, f.day
)
SELECT
    'doctor_impossible_volume' AS signal,
    d.day,
    CAST(NULL AS VARCHAR) AS psn_no,
    d.dr_code,
    ${own} AS fixmedins_code,
    d.events,
    d.distinct_count,
    m.hifp_pay,
    m.medfee_sumamt
FROM d
LEFT JOIN m ON m.dr_code = d.dr_code AND m.day = d.day
${join_dr}
