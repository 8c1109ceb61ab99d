-- One row per <keys> (an institution, or a doctor at an institution) over the visit table
-- <visits> (visits.sql). Placeholders: <keys> (column list), <where> (a filter), <short_stay_days>,
-- <minor_p>: a stay is a short minor stay (短期轻症住院, the screen for 无指征住院) when it is
-- short and the region admits fewer than this share of the outpatient and inpatient visits with
-- its diagnosis category (a condition almost always treated as an outpatient).
-- Shares are of the rows that have the value: fee shares of fee sums, inpatient measures of
-- inpatient stays, tcm_therapy_share of outpatient visits; a measure with no such rows is NULL.
-- Doctors: claims_per_doctor = visits with a doctor / doctors; top_doctor_share = the largest
-- number of visits of one doctor / visits with a doctor. repeat_person_share: persons with two or
-- more inpatient stays here / persons with a stay (repeat admissions of the same persons).
-- Sums of doubles are summed as DECIMAL (expected admissions, entropy terms: DECIMAL(38,9)) so
-- that DuckDB and Spark, which add in different orders, give the same bits.
WITH v AS (
    SELECT * FROM ${visits} WHERE ${where}
),
cats AS (
    SELECT ${keys}, dise_cat, COUNT(*) AS n
    FROM v
    WHERE dise_cat IS NOT NULL
    GROUP BY ${keys}, dise_cat
),
by_doctor AS (
    SELECT ${keys}, MAX(n) AS top_doctor_visits
    FROM (SELECT ${keys}, dr_code, COUNT(*) AS n FROM v WHERE dr_code IS NOT NULL GROUP BY ${keys}, dr_code)
    GROUP BY ${keys}
),
by_person AS (
    SELECT ${keys}, AVG(CAST(n >= 2 AS DOUBLE)) AS repeat_person_share
    FROM (SELECT ${keys}, psn_no, COUNT(*) AS n FROM v WHERE inpatient GROUP BY ${keys}, psn_no)
    GROUP BY ${keys}
),
diversity AS (
    SELECT ${keys}, COUNT(*) AS dise_categories, CAST(-SUM(CAST(p * LOG2(p) AS DECIMAL(38,9))) AS DOUBLE) AS dise_entropy
    FROM (SELECT *, n / SUM(n) OVER (PARTITION BY ${keys}) AS p FROM cats)
    GROUP BY ${keys}
),
agg AS (
    SELECT
        ${keys},
        COUNT(*) AS visits,
        COUNT(DISTINCT psn_no) AS persons,
        COUNT(*) FILTER (WHERE inpatient) AS inpatient_stays,
        COUNT(DISTINCT dr_code) AS doctors,
        COUNT(DISTINCT dr_code || '|' || CAST(begn_date AS VARCHAR)) AS doctor_days,
        COUNT(dr_code) AS doctor_visits,
        COUNT(DISTINCT psn_no) FILTER (WHERE dr_code IS NOT NULL) AS doctor_persons,
        CAST(SUM(medfee) AS DECIMAL(18,2)) AS medfee_total,
        CAST(SUM(hifp) AS DECIMAL(18,2)) AS hifp_total,
        COUNT(medfee) AS billed_visits,
        COUNT(DISTINCT psn_no) FILTER (WHERE medfee IS NOT NULL) AS billed_persons,
        SUM(expected_cost) AS expected_cost,
        SUM(los_days) FILTER (WHERE inpatient) AS los_sum,
        SUM(expected_los) AS expected_los,
        SUM(fee_total) AS fee_total,
        SUM(fee_drug) AS fee_drug,
        SUM(fee_test) AS fee_test,
        SUM(fee_consumable) AS fee_consumable,
        SUM(fee_treatment) AS fee_treatment,
        AVG(CAST(tcm AS DOUBLE)) FILTER (WHERE outpatient) AS tcm_therapy_share,
        SUM(fee_exam) FILTER (WHERE outpatient) AS fee_exam_out,
        COUNT(fee_total) FILTER (WHERE outpatient) AS fee_out_visits,
        SUM(fee_bed_nursing) FILTER (WHERE inpatient) AS fee_bed_in,
        SUM(GREATEST(los_days, 1)) FILTER (WHERE inpatient AND fee_total IS NOT NULL) AS fee_bed_days,
        AVG(CAST(p_admit < ${minor_p} AND los_days <= ${short_stay_days} AS DOUBLE)) FILTER (WHERE inpatient) AS minor_admission_share,
        COUNT(*) FILTER (WHERE care AND inpatient) AS care_admissions,
        SUM(CAST(p_admit AS DECIMAL(38,9))) AS expected_admissions,
        AVG(CAST(los_days <= ${short_stay_days} AS DOUBLE)) FILTER (WHERE inpatient) AS short_stay_share,
        AVG(los_days) FILTER (WHERE inpatient) AS los_mean,
        AVG(CAST(readmit AS DOUBLE)) FILTER (WHERE inpatient) AS readmission_rate,
        AVG(CAST(weekend AS DOUBLE)) AS weekend_share,
        AVG(CAST(night AS DOUBLE)) AS night_share,
        AVG(CAST(age >= 65 AS DOUBLE)) AS elderly_share,
        AVG(CAST(chronic AS DOUBLE)) FILTER (WHERE dise_cat IS NOT NULL) AS chronic_share,
        MEDIAN(days_since_prev) AS repeat_interval_median
    FROM v
    GROUP BY ${keys}
)
SELECT
    ${a_keys},
    a.visits,
    a.persons,
    a.inpatient_stays,
    a.doctors,
    a.medfee_total,
    a.hifp_total,
    CASE WHEN a.billed_visits > 0 THEN CAST(a.medfee_total AS DOUBLE) / a.billed_visits END AS cost_per_visit,
    CASE WHEN a.billed_persons > 0 THEN CAST(a.medfee_total AS DOUBLE) / a.billed_persons END AS cost_per_person,
    CASE WHEN a.expected_cost > 0 THEN CAST(a.medfee_total AS DOUBLE) / CAST(a.expected_cost AS DOUBLE) END AS cost_index,
    CASE WHEN a.medfee_total > 0 THEN CAST(a.hifp_total AS DOUBLE) / CAST(a.medfee_total AS DOUBLE) END AS fund_share,
    CASE WHEN a.fee_total > 0 THEN CAST(a.fee_drug AS DOUBLE) / CAST(a.fee_total AS DOUBLE) END AS drug_share,
    CASE WHEN a.fee_total > 0 THEN CAST(a.fee_test AS DOUBLE) / CAST(a.fee_total AS DOUBLE) END AS test_share,
    CASE WHEN a.fee_total > 0 THEN CAST(a.fee_consumable AS DOUBLE) / CAST(a.fee_total AS DOUBLE) END AS consumable_share,
    CASE WHEN a.fee_total > 0 THEN CAST(a.fee_treatment AS DOUBLE) / CAST(a.fee_total AS DOUBLE) END AS treatment_share,
    a.tcm_therapy_share,
    CASE WHEN a.fee_out_visits > 0 THEN CAST(a.fee_exam_out AS DOUBLE) / a.fee_out_visits END AS exam_fee_per_visit,
    CASE WHEN a.fee_bed_days > 0 THEN CAST(a.fee_bed_in AS DOUBLE) / a.fee_bed_days END AS bed_nursing_per_day,
    CAST(a.inpatient_stays AS DOUBLE) / a.visits AS inpatient_share,
    CASE WHEN a.expected_admissions > 0 THEN CAST(a.care_admissions AS DOUBLE) / CAST(a.expected_admissions AS DOUBLE) END AS admission_index,
    a.short_stay_share,
    a.minor_admission_share,
    a.los_mean,
    CASE WHEN a.expected_los > 0 THEN CAST(a.los_sum AS DOUBLE) / CAST(a.expected_los AS DOUBLE) END AS los_index,
    a.readmission_rate,
    CAST(a.visits AS DOUBLE) / a.persons AS claims_per_person,
    bp.repeat_person_share,
    CASE WHEN a.doctor_days > 0 THEN CAST(a.doctor_visits AS DOUBLE) / a.doctor_days END AS visits_per_doctor_day,
    CASE WHEN a.doctors > 0 THEN CAST(a.doctor_persons AS DOUBLE) / a.doctors END AS patients_per_doctor,
    CASE WHEN a.doctors > 0 THEN CAST(a.doctor_visits AS DOUBLE) / a.doctors END AS claims_per_doctor,
    CASE WHEN a.doctor_visits > 0 THEN CAST(bd.top_doctor_visits AS DOUBLE) / a.doctor_visits END AS top_doctor_share,
    a.weekend_share,
    a.night_share,
    CAST(COALESCE(d.dise_categories, 0) AS BIGINT) AS dise_categories,
    100.0 * COALESCE(d.dise_categories, 0) / a.visits AS dise_per_100,
    d.dise_entropy,
    a.elderly_share,
    a.chronic_share,
    CAST(a.repeat_interval_median AS DOUBLE) AS repeat_interval_median
FROM agg AS a
LEFT JOIN diversity AS d USING (${keys})
LEFT JOIN by_doctor AS bd USING (${keys})
LEFT JOIN by_person AS bp USING (${keys})
ORDER BY ${a_keys}
