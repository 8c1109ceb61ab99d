-- The stay sequence: every inpatient stay (med_type '21') with its dates, diagnosis category and
-- net money, read by rule split_hospitalization and by `workbench stays` (stays/sql/episodes.sql),
-- so the two agree on which stays stand and which one is "previous".
-- The same rows and values as v_stay, but only the inpatient visits' settlements are summed:
-- v_stay reads v_visit_fund, which sums every visit's (cheap in an audit, where v_visit_fund is
-- computed once for most rules, but most of the cost of `workbench stays` on its own).
-- Net money, reversed, begn_day and dise_cat as in v_visit_fund: settlements summed with reversal
-- rows (refd_setl_flag '1' or a negative amount) counted negative; reversed = a reversal row and
-- a net bill <= 0 (the claim was withdrawn); a stay without settlement has 0 money and is not
-- reversed.
-- setl_rows, setl_medfee_sumamt, setl_hifp_pay: the settlement rows and their sums as they are
-- (NULL when the stay has no settlement amount), for `workbench stays`, which shows an unknown bill
-- as empty rather than 0.
WITH stay AS (
    SELECT
        m.mdtrt_id,
        m.psn_no,
        m.fixmedins_code,
        m.begntime,
        m.endtime,
        m.dise_codg,
        m.atddr_no
    FROM mdtrt AS m
    WHERE m.med_type = '21'
),
s AS (
    SELECT
        t.mdtrt_id,
        SUM(CASE WHEN t.refd_setl_flag = '1' THEN -ABS(t.medfee_sumamt) ELSE t.medfee_sumamt END) AS medfee_sumamt,
        SUM(CASE WHEN t.refd_setl_flag = '1' THEN -ABS(t.hifp_pay) ELSE t.hifp_pay END) AS hifp_pay,
        SUM(CASE WHEN t.medfee_sumamt < 0 OR t.refd_setl_flag = '1' THEN 1 ELSE 0 END) AS refund_rows,
        COUNT(*) AS setl_rows
    FROM setl AS t
    WHERE t.mdtrt_id IN (SELECT mdtrt_id FROM stay)
    GROUP BY t.mdtrt_id
)
SELECT
    v.mdtrt_id,
    v.psn_no,
    v.fixmedins_code,
    v.begntime,
    v.endtime,
    CAST(v.begntime AS DATE) AS begn_date,
    CAST(v.endtime AS DATE) AS end_date,
    DATE_DIFF('day', DATE '2000-01-01', CAST(v.begntime AS DATE)) AS begn_day,
    CAST(DATE_DIFF('day', CAST(v.begntime AS DATE), CAST(v.endtime AS DATE)) + 1 AS BIGINT) AS stay_days,
    v.dise_codg,
    NULLIF(UPPER(SUBSTR(REPLACE(TRIM(v.dise_codg), '.', ''), 1, 3)), '') AS dise_cat,
    v.atddr_no,
    CAST(COALESCE(s.medfee_sumamt, 0) AS DECIMAL(18,2)) AS medfee_sumamt,
    CAST(COALESCE(s.hifp_pay, 0) AS DECIMAL(18,2)) AS hifp_pay,
    COALESCE(s.refund_rows, 0) > 0 AND COALESCE(s.medfee_sumamt, 0) <= 0 AS reversed,
    CAST(COALESCE(s.setl_rows, 0) AS BIGINT) AS setl_rows,
    CAST(s.medfee_sumamt AS DECIMAL(18,2)) AS setl_medfee_sumamt,
    CAST(s.hifp_pay AS DECIMAL(18,2)) AS setl_hifp_pay
FROM stay AS v
LEFT JOIN s ON s.mdtrt_id = v.mdtrt_id
