-- Every column of v_fee_fund_base plus fee_key, the evidence key 'fee:<mdtrt_id>/<feedetl_sn>'.
-- The key is built here, on the rows a rule reads, not stored for every fee line.
SELECT
    b.*,
    'fee:' || b.mdtrt_id || '/' || b.feedetl_sn AS fee_key
FROM v_fee_fund_base AS b
