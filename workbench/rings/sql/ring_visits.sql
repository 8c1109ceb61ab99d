-- Every outpatient and pharmacy visit of a ring's patients ($1: psn_no list), with the ring's
-- doctors ($2) linked to it and whether it is part of the ring: a purchase at a ring pharmacy
-- ($3) or a visit to a ring doctor.
WITH v AS (
    SELECT * FROM rings_visits WHERE list_contains($1, psn_no)
),
lk AS (
    SELECT l.mdtrt_id,
           string_agg(l.dr_code, ';' ORDER BY l.dr_code) AS linked_dr_code,
           bool_or(l.same_day) AS same_day
    FROM rings_links l
    WHERE list_contains($1, l.psn_no) AND list_contains($2, l.dr_code)
    GROUP BY l.mdtrt_id
)
SELECT
    v.mdtrt_id, v.day, v.begntime, v.psn_no, v.med_type, v.fixmedins_code, v.dr_code,
    lk.linked_dr_code,
    coalesce(lk.same_day, FALSE) AS same_day,
    (v.purchase AND list_contains($3, v.fixmedins_code)) OR (NOT v.purchase AND list_contains($2, v.dr_code)) AS in_ring,
    v.hifp_pay, v.medfee_sumamt
FROM v LEFT JOIN lk USING (mdtrt_id)
ORDER BY v.begntime, v.mdtrt_id
