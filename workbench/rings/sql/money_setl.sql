SELECT mdtrt_id,
       CAST(SUM(hifp_pay) AS DECIMAL(18,2)) AS hifp_pay,
       CAST(SUM(medfee_sumamt) AS DECIMAL(18,2)) AS medfee_sumamt
FROM setl
GROUP BY mdtrt_id
