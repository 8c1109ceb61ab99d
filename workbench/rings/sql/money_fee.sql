SELECT mdtrt_id,
       CAST(NULL AS DECIMAL(18,2)) AS hifp_pay,
       CAST(SUM(det_item_fee_sumamt) AS DECIMAL(18,2)) AS medfee_sumamt
FROM fee
GROUP BY mdtrt_id
