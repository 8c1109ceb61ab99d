-- Net money of each visit: its settlements summed as they are (refund rows net out).
SELECT
    mdtrt_id,
    CAST(SUM(medfee_sumamt) AS DECIMAL(18,2)) AS medfee,
    CAST(SUM(hifp_pay) AS DECIMAL(18,2)) AS hifp,
    BOOL_OR(medfee_sumamt < 0) AS has_refund
FROM setl
GROUP BY mdtrt_id
