SELECT mdtrt_id, CAST(NULL AS DECIMAL(18,2)) AS hifp_pay, det_item_fee_sumamt AS medfee_sumamt
FROM fee WHERE mdtrt_id IN (SELECT mdtrt_id FROM flagged)
