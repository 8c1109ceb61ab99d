-- The fee lines, with the columns read by the rules that narrow them down (the contract table
-- fee; an import makes every line's mdtrt_id a visit of mdtrt). A rule that judges few of the lines
-- finds them here (a filter, or a GROUP BY of the raw lines) and joins only those with
-- v_visit_fund for their money. Once the session has computed v_fee_fund_base (for rules that
-- read every line with its visit) the engine reads these columns from there instead, which is
-- quicker than the data folder's Parquet: same rows, since every line has its visit.
SELECT
    feedetl_sn,
    mdtrt_id,
    fee_ocur_time,
    med_list_codg,
    med_chrgitm_type,
    cnt,
    pric,
    det_item_fee_sumamt,
    bilg_dr_codg
FROM fee
