-- The itemised bill of one visit by charge category (net: refund lines with negative amounts
-- count as they are).
SELECT
    med_chrgitm_type,
    COUNT(*) AS lines,
    CAST(SUM(det_item_fee_sumamt) AS DECIMAL(18,2)) AS amount
FROM fee
WHERE mdtrt_id = $mdtrt_id
GROUP BY med_chrgitm_type
ORDER BY med_chrgitm_type
