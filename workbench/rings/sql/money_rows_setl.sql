SELECT mdtrt_id, hifp_pay, medfee_sumamt FROM setl WHERE mdtrt_id IN (SELECT mdtrt_id FROM flagged)
