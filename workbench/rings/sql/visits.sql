-- Outpatient (11, 14) and pharmacy (41) visits reduced to what the collusion graph needs: one row
-- per visit with its day, its doctor (the attending doctor; for a pharmacy purchase the
-- prescribing doctor of the external prescription, often null) and its money.
-- Money: the net fund share (hifp_pay) and bill (medfee_sumamt) of the visit's settlements,
-- refunds netted as they are; without setl, the bill is the sum of the fee lines and the fund
-- share is unknown (null).
WITH money AS (${money})
SELECT
    m.mdtrt_id,
    m.psn_no,
    m.fixmedins_code,
    m.med_type,
    CAST(m.begntime AS DATE) AS day,
    m.begntime,
    NULLIF(trim(m.atddr_no), '') AS dr_code,
    m.med_type = '41' AS purchase,
    money.hifp_pay,
    money.medfee_sumamt
FROM mdtrt m
LEFT JOIN money USING (mdtrt_id)
WHERE m.med_type IN ('11', '14', '41')
  AND m.psn_no IS NOT NULL AND m.fixmedins_code IS NOT NULL AND m.begntime IS NOT NULL
