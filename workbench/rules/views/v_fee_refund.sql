-- Refund lines with the charge lines they reverse, one row per line of each pair.
-- A refund line (cnt < 0) reverses a charge line (cnt > 0) of the same visit and item at the
-- same unit price and the opposite quantity, wherever in time either was billed. Several of
-- them with the same visit, item, price and quantity pair up in order of fee_ocur_time, then
-- feedetl_sn (the first charge with the first refund, ...). A refund with no such charge (a
-- partial refund, another price) pairs with nothing: the rules' net sums still count it.
-- Columns: mdtrt_id, feedetl_sn of every paired line, and partner_sn, the other line of its pair.
WITH refund AS (
    SELECT mdtrt_id, med_list_codg, pric, -cnt AS qty, feedetl_sn, fee_ocur_time
    FROM fee
    WHERE cnt < 0
),
refund_key AS (
    SELECT DISTINCT mdtrt_id, med_list_codg, pric, qty
    FROM refund
),
charge AS (
    SELECT f.mdtrt_id, f.med_list_codg, f.pric, f.cnt AS qty, f.feedetl_sn, f.fee_ocur_time
    FROM fee AS f
    JOIN refund_key AS k
      ON k.mdtrt_id = f.mdtrt_id AND k.med_list_codg = f.med_list_codg AND k.pric = f.pric AND k.qty = f.cnt
    WHERE f.cnt > 0
),
ranked_refund AS (
    SELECT mdtrt_id, med_list_codg, pric, qty, feedetl_sn,
           ROW_NUMBER() OVER (PARTITION BY mdtrt_id, med_list_codg, pric, qty
                              ORDER BY fee_ocur_time, feedetl_sn) AS k
    FROM refund
),
ranked_charge AS (
    SELECT mdtrt_id, med_list_codg, pric, qty, feedetl_sn,
           ROW_NUMBER() OVER (PARTITION BY mdtrt_id, med_list_codg, pric, qty
                              ORDER BY fee_ocur_time, feedetl_sn) AS k
    FROM charge
),
pair AS (
    SELECT c.mdtrt_id, c.feedetl_sn AS charge_sn, r.feedetl_sn AS refund_sn
    FROM ranked_charge AS c
    JOIN ranked_refund AS r
      ON r.mdtrt_id = c.mdtrt_id AND r.med_list_codg = c.med_list_codg AND r.pric = c.pric
     AND r.qty = c.qty AND r.k = c.k
)
SELECT mdtrt_id, charge_sn AS feedetl_sn, refund_sn AS partner_sn FROM pair
UNION ALL
SELECT mdtrt_id, refund_sn AS feedetl_sn, charge_sn AS partner_sn FROM pair
