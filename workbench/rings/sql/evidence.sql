-- The evidence behind each candidate ring, one row per ring_id of rings_members(ring_id, kind, key).
-- Ring purchases: the ring's patients' purchases at the ring's pharmacies.
WITH mp AS (SELECT ring_id, key AS psn_no FROM rings_members WHERE kind = 'psn'),
md AS (SELECT ring_id, key AS dr_code FROM rings_members WHERE kind = 'dr'),
mf AS (SELECT ring_id, key AS fixmedins_code FROM rings_members WHERE kind = 'pharmacy'),
rp AS (
    SELECT mp.ring_id, v.mdtrt_id, v.psn_no, v.fixmedins_code, v.day, v.hifp_pay, v.medfee_sumamt
    FROM rings_visits v
    JOIN mp ON mp.psn_no = v.psn_no
    JOIN mf ON mf.ring_id = mp.ring_id AND mf.fixmedins_code = v.fixmedins_code
    WHERE v.purchase
),
rl AS (  -- ring purchases linked to one of the ring's doctors
    SELECT rp.ring_id, rp.mdtrt_id, bool_or(l.rx) AS rx, bool_or(l.same_day) AS same_day
    FROM rp
    JOIN rings_links l ON l.mdtrt_id = rp.mdtrt_id
    JOIN md ON md.ring_id = rp.ring_id AND md.dr_code = l.dr_code
    GROUP BY rp.ring_id, rp.mdtrt_id
),
pur AS (
    SELECT ring_id, count(*) AS purchases, count(DISTINCT day) AS active_days,
           count(DISTINCT floor(DATE_DIFF('day', DATE '2000-01-03', day) / 7)) AS weeks,
           min(day) AS first_day, max(day) AS last_day,
           CAST(sum(hifp_pay) AS DECIMAL(18,2)) AS hifp_pay,
           CAST(sum(medfee_sumamt) AS DECIMAL(18,2)) AS medfee_sumamt,
           median(CAST(medfee_sumamt AS DOUBLE)) AS median_bill
    FROM rp GROUP BY ring_id
),
lk AS (
    SELECT ring_id, count(*) AS linked_purchases,
           count(*) FILTER (WHERE rx) AS prescriptions,
           count(*) FILTER (WHERE same_day) AS same_day_sequences
    FROM rl GROUP BY ring_id
),
dc AS (  -- the ring doctors' linked purchases (any patient): all, and at the ring's pharmacies
    SELECT md.ring_id, count(DISTINCT l.mdtrt_id) AS doctor_purchases,
           count(DISTINCT l.mdtrt_id) FILTER (WHERE mf.fixmedins_code IS NOT NULL) AS doctor_purchases_at_ring
    FROM md
    JOIN rings_links l ON l.dr_code = md.dr_code
    LEFT JOIN mf ON mf.ring_id = md.ring_id AND mf.fixmedins_code = l.fixmedins_code
    GROUP BY md.ring_id
),
pc AS (  -- every purchase of the ring's patients, at any pharmacy
    SELECT mp.ring_id, count(*) AS patient_purchases
    FROM mp JOIN rings_visits v ON v.psn_no = mp.psn_no AND v.purchase
    GROUP BY mp.ring_id
),
oc AS (  -- patients enrolled outside the county of a ring pharmacy they bought at
    SELECT rp.ring_id, count(DISTINCT rp.psn_no) AS outside_county_patients
    FROM rp
    JOIN psn p ON p.psn_no = rp.psn_no
    JOIN medins i ON i.fixmedins_code = rp.fixmedins_code
    WHERE p.insuplc_admdvs IS DISTINCT FROM i.admdvs
    GROUP BY rp.ring_id
),
gaps AS (  -- days between a patient's consecutive days of ring purchases
    SELECT ring_id, psn_no, day,
           DATE_DIFF('day', lag(day) OVER (PARTITION BY ring_id, psn_no ORDER BY day), day) AS gap
    FROM (SELECT DISTINCT ring_id, psn_no, day FROM rp) d
),
rhythm AS (  -- each gap beside the one before it: a kept rhythm (weekly, fortnightly, ...) repeats it
    SELECT ring_id, gap, lag(gap) OVER (PARTITION BY ring_id, psn_no ORDER BY day) AS prev_gap
    FROM gaps
),
rg AS (
    SELECT ring_id, count(*) FILTER (WHERE prev_gap IS NOT NULL) AS rhythm_intervals,
           count(*) FILTER (WHERE abs(gap - prev_gap) <= ${rhythm_days}) AS regular_intervals
    FROM rhythm GROUP BY ring_id
),
sd AS (  -- ring doctors whose own visits the data holds (same-day sequences with them can be seen)
    SELECT ring_id, count(*) AS doctors_seen FROM md
    WHERE dr_code IN (${seen_doctors})
    GROUP BY ring_id
),
ib AS (${baskets})
SELECT pur.ring_id, pur.purchases, pur.active_days, CAST(pur.weeks AS BIGINT) AS weeks, pur.first_day, pur.last_day,
       pur.hifp_pay, pur.medfee_sumamt, pur.median_bill,
       coalesce(lk.linked_purchases, 0) AS linked_purchases,
       coalesce(lk.prescriptions, 0) AS prescriptions,
       coalesce(lk.same_day_sequences, 0) AS same_day_sequences,
       coalesce(dc.doctor_purchases, 0) AS doctor_purchases,
       coalesce(dc.doctor_purchases_at_ring, 0) AS doctor_purchases_at_ring,
       coalesce(pc.patient_purchases, 0) AS patient_purchases,
       coalesce(oc.outside_county_patients, 0) AS outside_county_patients,
       coalesce(ib.identical_baskets, 0) AS identical_baskets,
       coalesce(rg.rhythm_intervals, 0) AS rhythm_intervals,
       coalesce(rg.regular_intervals, 0) AS regular_intervals,
       coalesce(sd.doctors_seen, 0) AS doctors_seen,
       (SELECT median(CAST(medfee_sumamt AS DOUBLE)) FROM rings_visits WHERE purchase) AS region_median_bill
FROM pur
LEFT JOIN lk USING (ring_id)
LEFT JOIN dc USING (ring_id)
LEFT JOIN pc USING (ring_id)
LEFT JOIN oc USING (ring_id)
LEFT JOIN ib USING (ring_id)
LEFT JOIN rg USING (ring_id)
LEFT JOIN sd USING (ring_id)
ORDER BY pur.ring_id
