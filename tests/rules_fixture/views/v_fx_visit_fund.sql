SELECT mdtrt_id, SUM(medfee_sumamt) AS medfee, SUM(hifp_pay) AS hifp
FROM setl
GROUP BY mdtrt_id
