-- Readmission pairs at the same institution: a stay and the person's previous stay at that
-- institution (consecutive stays), 0 <= gap <= $window_days. Reads the episodes table.
SELECT
    s.psn_no,
    s.fixmedins_code,
    f.mdtrt_id AS first_mdtrt_id,
    s.mdtrt_id AS second_mdtrt_id,
    s.gap_prev_same_days AS gap_days,
    f.dise_codg AS first_dise_codg,
    s.dise_codg AS second_dise_codg,
    COALESCE(f.dise_category = s.dise_category, FALSE) AS same_category,
    f.medfee_sumamt AS first_medfee_sumamt,
    f.hifp_pay AS first_hifp_pay,
    s.medfee_sumamt AS second_medfee_sumamt,
    s.hifp_pay AS second_hifp_pay,
    f.dise_category AS first_dise_category,
    s.dise_category AS second_dise_category,
    f.begn_date AS first_begn_date,
    f.end_date AS first_end_date,
    s.begn_date AS second_begn_date,
    s.end_date AS second_end_date,
    f.los_days AS first_los_days,
    s.los_days AS second_los_days,
    s.peer_group
FROM ${episodes} AS s
JOIN ${episodes} AS f ON f.mdtrt_id = s.prev_same_mdtrt_id
WHERE s.gap_prev_same_days BETWEEN 0 AND $window_days
ORDER BY s.fixmedins_code, s.psn_no, s.begntime, s.mdtrt_id
