-- One row per fee line with its visit, its fund amount and whether a refund line reverses it.
-- Rules read it through v_fee_fund (which adds the fee_key text); the engine computes this view
-- once per session into a scratch table, so keep it free of per-rule logic.
-- fund_amt = det_item_fee_sumamt x net hifp_pay / net medfee_sumamt of the visit, rounded to
-- 2 decimals per line (0 when the visit's net bill is 0): the fund's share of the line
-- (docs/rules-spec.md, money at risk). Refund lines (negative amounts) keep their sign.
-- refunded: the line is one of a charge / refund pair of v_fee_refund (a refund line and the
-- charge line it reverses, wherever in time each was billed); rules that judge what was billed
-- drop such pairs (NOT refunded) so that a refund dated on another day or at another time still
-- cancels its charge.
SELECT
    f.feedetl_sn,
    f.mdtrt_id,
    v.psn_no,
    v.fixmedins_code,
    v.med_type,
    v.begn_date,
    v.end_date,
    v.dise_codg,
    v.dise_cat,
    v.atddr_no,
    v.medfee_sumamt,
    v.hifp_pay,
    v.reversed,
    f.fee_ocur_time,
    CAST(f.fee_ocur_time AS DATE) AS fee_date,
    f.med_list_codg,
    f.med_chrgitm_type,
    f.cnt,
    f.pric,
    f.det_item_fee_sumamt,
    f.bilg_dr_codg,
    CAST(CASE WHEN v.medfee_sumamt <> 0
              THEN ROUND(f.det_item_fee_sumamt * v.hifp_pay / v.medfee_sumamt, 2)
              ELSE 0 END AS DECIMAL(18,2)) AS fund_amt,
    r.feedetl_sn IS NOT NULL AS refunded
FROM fee AS f
JOIN v_visit_fund AS v ON v.mdtrt_id = f.mdtrt_id
LEFT JOIN v_fee_refund AS r ON r.mdtrt_id = f.mdtrt_id AND r.feedetl_sn = f.feedetl_sn
