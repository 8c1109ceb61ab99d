-- v_stay_sequence once v_visit_fund is computed (rules/views.py WHEN_COMPUTED): the same rows and
-- columns as v_stay_sequence.sql, read from v_stay (the inpatient rows of the visits' table an
-- audit has already built, in v_stay_sequence's column order) instead of summing the stays'
-- settlements again. v_visit_fund sums the same settlement rows the same way; the only thing it
-- cannot tell is whether a settlement sum was NULL (every amount of the stay's settlement rows
-- missing), so the engine uses this file only on data whose settlement rows all carry both
-- amounts (the guard in WHEN_COMPUTED), where setl_rows > 0 means a sum exists.
SELECT
    *,
    CASE WHEN setl_rows > 0 THEN medfee_sumamt END AS setl_medfee_sumamt,
    CASE WHEN setl_rows > 0 THEN hifp_pay END AS setl_hifp_pay
FROM v_stay
