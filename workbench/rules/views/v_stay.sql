-- Inpatient stays (med_type '21') with their dates, diagnosis category and net money.
-- Day of a stay: begn_date .. end_date inclusive; stay_days counts them.
-- Fully reversed stays are kept (with reversed = TRUE) so that consecutive-stay logic here and
-- in `workbench stays` sees the same sequence; rules that judge a stay filter on reversed.
-- setl_rows: the stay's settlement rows (0: never settled), for v_stay_sequence once v_visit_fund
-- is computed (views/when_computed/v_stay_sequence.sql reads this view).
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
    setl_rows
FROM v_visit_fund
WHERE med_type = '21'
