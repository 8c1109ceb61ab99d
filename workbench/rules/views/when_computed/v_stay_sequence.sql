-- v_stay_sequence once v_visit_fund is computed (rules/views.py WHEN_COMPUTED): the same rows and
-- columns as v_stay_sequence.sql, read from the visits' table an audit has already built instead
-- of summing the stays' settlements again. v_visit_fund sums the same settlement rows the same
-- way; the only column it cannot tell is whether a settlement sum was NULL (every amount of the
-- stay's settlement rows missing), so the engine uses this file only on data whose settlement rows
-- all carry both amounts (the guard in WHEN_COMPUTED), where setl_rows > 0 means a sum exists.
SELECT
    mdtrt_id,
    psn_no,
    fixmedins_code,
    begntime,
    endtime,
    begn_date,
    end_date,
    begn_day,
    CAST(DATE_DIFF('day', begn_date, end_date) + 1 AS BIGINT) AS stay_days,
    dise_codg,
    dise_cat,
    atddr_no,
    medfee_sumamt,
    hifp_pay,
    reversed,
    setl_rows,
    CASE WHEN setl_rows > 0 THEN medfee_sumamt END AS setl_medfee_sumamt,
    CASE WHEN setl_rows > 0 THEN hifp_pay END AS setl_hifp_pay
FROM v_visit_fund
WHERE med_type = '21'
