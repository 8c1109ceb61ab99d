SELECT CAST(NULL AS VARCHAR) AS mdtrt_id,
       CAST(NULL AS DECIMAL(18,2)) AS hifp_pay,
       CAST(NULL AS DECIMAL(18,2)) AS medfee_sumamt
WHERE 1 = 0
