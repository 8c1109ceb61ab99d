-- Visits with the person's sex and age at the visit.
-- Age = whole years from brdy to the date of begntime (birthday reached on that date counts);
-- someone born on 29 February turns a year older on 1 March in common years.
SELECT
    v.*,
    p.gend,
    p.brdy,
    CAST(YEAR(v.begn_date) - YEAR(p.brdy)
         - CASE WHEN MONTH(v.begn_date) * 100 + DAY(v.begn_date) < MONTH(p.brdy) * 100 + DAY(p.brdy)
                THEN 1 ELSE 0 END AS BIGINT) AS age
FROM v_visit_fund AS v
JOIN psn AS p ON p.psn_no = v.psn_no
