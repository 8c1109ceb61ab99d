-- The bed (01) and nursing (07) lines of inpatient stays, with the stay's bed days: what rules
-- that compare the days billed by the day with the days of the stay read (bed_days_over_stay,
-- nursing_days_over_stay), so the two share one convention. A stay (med_type '21', not fully
-- reversed) has date(endtime) - date(begntime) bed days, at least one: the day of admission
-- counts, the day of discharge does not (the usual 计算床日 convention). A charge and the refund
-- line that reverses it (refunded) are left out, so cnt sums to the net quantity billed.
SELECT
    f.mdtrt_id,
    f.psn_no,
    f.fixmedins_code,
    f.begn_date,
    f.end_date,
    GREATEST(DATE_DIFF('day', f.begn_date, f.end_date), 1) AS bed_days,
    f.med_list_codg,
    f.med_chrgitm_type,
    f.cnt,
    f.fund_amt,
    f.fee_key
FROM v_fee_fund AS f
WHERE f.med_type = '21'
  AND NOT f.reversed
  AND NOT f.refunded
  AND f.med_chrgitm_type IN ('01', '07')
