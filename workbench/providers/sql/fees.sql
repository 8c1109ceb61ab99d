-- Fee sums of each visit by the ZB indicator classes (med_chrgitm_type): drugs 09 + 10 + 11,
-- tests 03 + 04, consumables 08, treatment 05; consultation (诊查费) 02; bed and nursing 01 + 07; tcm: the visit has a line whose catalogue item is
-- a TCM therapy (<tcm>: BOOL_OR over the joined list, or NULL when list.tcm_therapy is absent).
SELECT
    f.mdtrt_id,
    SUM(f.det_item_fee_sumamt) AS fee_total,
    SUM(CASE WHEN f.med_chrgitm_type IN ('09', '10', '11') THEN f.det_item_fee_sumamt ELSE 0 END) AS fee_drug,
    SUM(CASE WHEN f.med_chrgitm_type IN ('03', '04') THEN f.det_item_fee_sumamt ELSE 0 END) AS fee_test,
    SUM(CASE WHEN f.med_chrgitm_type = '08' THEN f.det_item_fee_sumamt ELSE 0 END) AS fee_consumable,
    SUM(CASE WHEN f.med_chrgitm_type = '05' THEN f.det_item_fee_sumamt ELSE 0 END) AS fee_treatment,
    SUM(CASE WHEN f.med_chrgitm_type = '02' THEN f.det_item_fee_sumamt ELSE 0 END) AS fee_exam,
    SUM(CASE WHEN f.med_chrgitm_type IN ('01', '07') THEN f.det_item_fee_sumamt ELSE 0 END) AS fee_bed_nursing,
    ${tcm} AS tcm
FROM fee AS f
${tcm_join}
GROUP BY f.mdtrt_id
