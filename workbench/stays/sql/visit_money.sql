-- Net money of each visit: its settlements summed as they are, so refund / reversal rows
-- (refd_setl_flag '1', negative amounts) net out. Same definition as the rules' amount at risk.
SELECT
    mdtrt_id,
    CAST(SUM(medfee_sumamt) AS DECIMAL(18,2)) AS medfee_sumamt,
    CAST(SUM(hifp_pay) AS DECIMAL(18,2)) AS hifp_pay,
    COUNT(*) AS setl_rows,
    SUM(CASE WHEN medfee_sumamt < 0 THEN 1 ELSE 0 END) AS refund_rows
FROM setl
GROUP BY mdtrt_id
