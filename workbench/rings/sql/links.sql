-- Each pharmacy purchase linked to the doctors behind it: the prescribing doctor written on it
-- (atddr_no of the '41' visit: rx) and every doctor the patient saw at an outpatient visit
-- (11 / 14) the same day (same_day: the doctor -> pharmacy sequence of one day). One row per
-- (purchase, doctor); a purchase may be linked to several doctors, or to none (no row).
WITH purchases AS (
    SELECT * FROM rings_visits WHERE purchase
),
seen AS (
    SELECT DISTINCT psn_no, day, dr_code FROM rings_visits WHERE NOT purchase AND dr_code IS NOT NULL
),
link AS (
    SELECT mdtrt_id, dr_code, TRUE AS rx, FALSE AS same_day FROM purchases WHERE dr_code IS NOT NULL
    UNION ALL
    SELECT p.mdtrt_id, s.dr_code, FALSE AS rx, TRUE AS same_day
    FROM purchases p JOIN seen s ON s.psn_no = p.psn_no AND s.day = p.day
)
SELECT
    l.mdtrt_id, p.psn_no, p.fixmedins_code, p.day, l.dr_code,
    bool_or(l.rx) AS rx,
    bool_or(l.same_day) AS same_day,
    p.hifp_pay, p.medfee_sumamt
FROM link l
JOIN purchases p USING (mdtrt_id)
GROUP BY l.mdtrt_id, p.psn_no, p.fixmedins_code, p.day, l.dr_code, p.hifp_pay, p.medfee_sumamt
