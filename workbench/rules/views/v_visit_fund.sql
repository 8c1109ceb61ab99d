-- One row per visit (every mdtrt row) with its net money and the fund ratio.
-- Net = the sum over the visit's settlements with refund / reversal rows counted negative, so a
-- fully reversed visit nets to 0. A reversal row is one with refd_setl_flag '1' or a negative
-- medfee_sumamt: platforms that flag a reversal but send its amounts positive (the flag says
-- which way the money went) still reverse, so a flagged row's amounts count as minus their
-- absolute value (the optional column reads NULL where the data lack it: amounts decide).
-- reversed: the visit has a reversal row and its net medfee_sumamt is <= 0, i.e. the claim was
--   withdrawn; rules that count visits or judge a claim skip such visits.
-- fund_ratio: net hifp_pay / net medfee_sumamt (0 when the net bill is 0), for display and for
--   amounts that are a part of a line; exact line amounts use medfee_sumamt / hifp_pay directly.
-- A visit without settlement rows has 0 money and is not reversed.
-- begn_day: whole days since 2000-01-01 (an integer for RANGE windows).
-- dise_cat: the ICD-10 three-character category (upper case, dots removed), NULL when unknown.
WITH s AS (
    SELECT
        mdtrt_id,
        SUM(CASE WHEN refd_setl_flag = '1' THEN -ABS(medfee_sumamt) ELSE medfee_sumamt END) AS medfee_sumamt,
        SUM(CASE WHEN refd_setl_flag = '1' THEN -ABS(hifp_pay) ELSE hifp_pay END) AS hifp_pay,
        SUM(CASE WHEN medfee_sumamt < 0 OR refd_setl_flag = '1' THEN 1 ELSE 0 END) AS refund_rows,
        COUNT(*) AS setl_rows
    FROM setl
    GROUP BY mdtrt_id
)
SELECT
    m.mdtrt_id,
    m.psn_no,
    m.fixmedins_code,
    m.med_type,
    m.begntime,
    m.endtime,
    CAST(m.begntime AS DATE) AS begn_date,
    CAST(m.endtime AS DATE) AS end_date,
    DATE_DIFF('day', DATE '2000-01-01', CAST(m.begntime AS DATE)) AS begn_day,
    m.dise_codg,
    NULLIF(UPPER(SUBSTR(REPLACE(TRIM(m.dise_codg), '.', ''), 1, 3)), '') AS dise_cat,
    m.atddr_no,
    CAST(COALESCE(s.medfee_sumamt, 0) AS DECIMAL(18,2)) AS medfee_sumamt,
    CAST(COALESCE(s.hifp_pay, 0) AS DECIMAL(18,2)) AS hifp_pay,
    CASE WHEN COALESCE(s.medfee_sumamt, 0) <> 0
         THEN CAST(s.hifp_pay AS DOUBLE) / CAST(s.medfee_sumamt AS DOUBLE)
         ELSE CAST(0 AS DOUBLE) END AS fund_ratio,
    COALESCE(s.refund_rows, 0) > 0 AND COALESCE(s.medfee_sumamt, 0) <= 0 AS reversed,
    CAST(COALESCE(s.setl_rows, 0) AS BIGINT) AS setl_rows
FROM mdtrt AS m
LEFT JOIN s ON s.mdtrt_id = m.mdtrt_id
