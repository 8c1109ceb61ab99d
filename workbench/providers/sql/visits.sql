-- One row per visit that was not withdrawn, with everything a provider profile aggregates.
-- Placeholders (filled by workbench/providers/profiles.py, never from user text):
--   <money>: (mdtrt_id, medfee, hifp, has_refund), one row per visit, net of refunds
--   <fees>: (mdtrt_id, fee_total, fee_drug, fee_test, fee_consumable, fee_treatment, fee_exam,
--   fee_bed_nursing, tcm)
--   <chronic>: a table of 3-character chronic diagnosis categories (column cat)
--   <window_days>, <night_from>, <night_to>: whole numbers; <has_time>: TRUE / FALSE
--   <tcm_default>: FALSE when the catalogue marks TCM therapies (a visit without fee lines has
--   none), else NULL
-- A withdrawn visit (a refund row and a net bill <= 0, as the rules' v_visit_fund) is left out.
-- dise_cat: first three characters of dise_codg, dots removed, upper case (ICD-10 or ICD-9).
-- readmit: an inpatient stay that began 0..window_days days after the discharge date of the
--   person's previous inpatient stay at the same institution (rules-spec: gap by dates). The
--   previous stay is, of the stays admitted before, the one discharged last (as the rule
--   split_hospitalization): a short stay inside a longer one does not hide a readmission after
--   the longer one.
-- days_since_prev: days since the person's previous visit (any kind) at the same institution.
-- case_mix: the group a visit's cost and stay are expected from: <case_mix>, the visit's DRG
--   (mdtrt.drg_codg, 'DRG ' || code) where the data carries one, else its diagnosis category.
-- expected_cost: the region's mean net bill of visits of the same med_type and case-mix group
--   (an exact decimal sum over a count), as DECIMAL(38,6) so that its sums do not depend on the order.
-- expected_los: for an inpatient stay, the region's mean length of stay of stays with the same
--   case-mix group (DECIMAL(38,6) for the same reason).
-- weekend: Saturday or Sunday, counted from Monday 2000-01-03 (sqlglot's Spark form of ISODOW is wrong).
-- Runs on DuckDB and, translated by workbench/rules/sqltext.py, on Spark (docs/providers.md).
-- p_admit: for outpatient and inpatient visits, the region's inpatient share of the visits with
--   the same diagnosis category (the expected chance that such a visit is an admission).
WITH money AS (
    ${money}
),
fees AS (
    ${fees}
),
v AS (
    SELECT
        m.mdtrt_id,
        m.psn_no,
        m.fixmedins_code,
        m.atddr_no AS dr_code,
        m.med_type,
        m.begntime,
        m.endtime,
        CAST(m.begntime AS DATE) AS begn_date,
        CAST(m.endtime AS DATE) AS end_date,
        NULLIF(UPPER(SUBSTR(REPLACE(TRIM(m.dise_codg), '.', ''), 1, 3)), '') AS dise_cat,
        ${case_mix} AS case_mix,
        mo.medfee,
        mo.hifp,
        COALESCE(mo.has_refund AND mo.medfee <= 0, FALSE) AS reversed,
        fe.fee_total,
        fe.fee_drug,
        fe.fee_test,
        fe.fee_consumable,
        fe.fee_treatment,
        fe.fee_exam,
        fe.fee_bed_nursing,
        COALESCE(fe.tcm, ${tcm_default}) AS tcm
    FROM mdtrt AS m
    LEFT JOIN money AS mo ON mo.mdtrt_id = m.mdtrt_id
    LEFT JOIN fees AS fe ON fe.mdtrt_id = m.mdtrt_id
),
-- MATERIALIZED: read three times below; recomputing its window functions tripled the time on
-- city data (4 M visits: 15 s instead of 50 s).
kept AS MATERIALIZED (
    SELECT
        v.*,
        v.med_type = '21' AS inpatient,
        v.med_type IN ('11', '14') AS outpatient,
        v.med_type IN ('11', '14', '21') AS care,
        CASE WHEN v.med_type = '21' THEN DATE_DIFF('day', v.begn_date, v.end_date) END AS los_days,
        MAX(v.end_date) OVER (PARTITION BY v.psn_no, v.fixmedins_code, v.med_type = '21'
                              ORDER BY v.begntime, v.endtime, v.mdtrt_id
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_stay_end,
        LAG(v.begn_date) OVER (PARTITION BY v.psn_no, v.fixmedins_code
                               ORDER BY v.begntime, v.endtime, v.mdtrt_id) AS prev_visit_date
    FROM v
    WHERE NOT v.reversed
),
-- region-wide expectations as grouped means joined back (a hash aggregate, cheaper than a window)
cost_norm AS (
    SELECT med_type, case_mix,
           CASE WHEN COUNT(medfee) > 0 THEN CAST(SUM(medfee) AS DOUBLE) / COUNT(medfee) END AS mean_cost,
           AVG(CAST(los_days AS DOUBLE)) AS mean_los
    FROM kept
    GROUP BY med_type, case_mix
),
admit_norm AS (
    SELECT dise_cat, AVG(CAST(inpatient AS DOUBLE)) AS admit_share
    FROM kept
    WHERE care
    GROUP BY dise_cat
)
SELECT
    k.mdtrt_id,
    k.psn_no,
    k.fixmedins_code,
    k.dr_code,
    k.med_type,
    k.begn_date,
    k.dise_cat,
    k.inpatient,
    k.outpatient,
    k.care,
    k.los_days,
    k.inpatient AND COALESCE(DATE_DIFF('day', k.prev_stay_end, k.begn_date) BETWEEN 0 AND ${window_days}, FALSE) AS readmit,
    DATE_DIFF('day', k.prev_visit_date, k.begn_date) AS days_since_prev,
    (DATE_DIFF('day', DATE '2000-01-03', k.begn_date) % 7 + 7) % 7 IN (5, 6) AS weekend,
    CASE WHEN ${has_time} THEN HOUR(k.begntime) >= ${night_from} OR HOUR(k.begntime) < ${night_to} END AS night,
    CAST(YEAR(k.begn_date) - YEAR(p.brdy)
         - CASE WHEN MONTH(k.begn_date) * 100 + DAY(k.begn_date) < MONTH(p.brdy) * 100 + DAY(p.brdy)
                THEN 1 ELSE 0 END AS BIGINT) AS age,
    k.dise_cat IN (SELECT cat FROM ${chronic}) AS chronic,
    k.medfee,
    k.hifp,
    CASE WHEN k.medfee IS NOT NULL THEN CAST(cn.mean_cost AS DECIMAL(38,6)) END AS expected_cost,
    CASE WHEN k.inpatient THEN CAST(cn.mean_los AS DECIMAL(38,6)) END AS expected_los,
    CASE WHEN k.care THEN an.admit_share END AS p_admit,
    k.fee_total,
    k.fee_drug,
    k.fee_test,
    k.fee_consumable,
    k.fee_treatment,
    k.fee_exam,
    k.fee_bed_nursing,
    k.tcm
FROM kept AS k
LEFT JOIN psn AS p ON p.psn_no = k.psn_no
LEFT JOIN cost_norm AS cn ON cn.med_type = k.med_type AND cn.case_mix IS NOT DISTINCT FROM k.case_mix
LEFT JOIN admit_norm AS an ON an.dise_cat IS NOT DISTINCT FROM k.dise_cat
