-- One row per inpatient stay (med_type '21') with the person, the institution, the bill and the
-- gaps to the person's previous stay at the same institution and at any institution.
-- <dise_name>: m.dise_name when mdtrt carries it, else a NULL.
-- Gap = date(begntime) - date(previous endtime) in days (0 = readmitted on the day of discharge,
-- negative = the stays overlap). "Previous": of the stays admitted before it (ordered by
-- (begntime, endtime, mdtrt_id), so ties are broken the same way on every run and engine), the
-- one discharged last, the later in that order on a tie; a short stay nested in a longer one
-- does not hide a readmission after the longer one (rule split_hospitalization alike).
-- The stays and their order are the rule split_hospitalization's: the derived view
-- v_stay_sequence (rules/views/v_stay_sequence.sql: med_type '21', dates, diagnosis category,
-- reversed, and the money of the stays' own settlements), registered by the rules' environment
-- or by stays.episodes before this runs. A fully reversed stay (reversed: the claim was
-- withdrawn) is no previous stay of anyone and has no previous stay itself: the sequences are of
-- the stays that stand, as in the rule. Money is the settlements' sums as they are (the view's
-- setl_*: null for a stay without settlement, or without setl, where the rule's columns have 0).
WITH flagged AS (
    SELECT
        v.mdtrt_id,
        v.psn_no,
        v.fixmedins_code,
        v.begntime,
        v.endtime,
        v.begn_date,
        v.end_date,
        v.dise_codg,
        ${dise_name} AS dise_name,
        v.dise_cat AS dise_category,
        v.atddr_no,
        v.reversed,
        v.setl_rows,
        v.setl_medfee_sumamt,
        v.setl_hifp_pay
    FROM v_stay_sequence AS v
    LEFT JOIN mdtrt AS m ON m.mdtrt_id = v.mdtrt_id
),
seq AS (
    -- each stay's place in the person's sequence at the institution (same) and anywhere (any),
    -- of the stays that stand, and whether it ends no earlier than every stay admitted before it
    SELECT
        s.*,
        ROW_NUMBER() OVER (PARTITION BY s.psn_no, s.fixmedins_code, s.reversed ORDER BY s.begntime, s.endtime, s.mdtrt_id) AS rn_same,
        COALESCE(s.endtime >= MAX(s.endtime) OVER (PARTITION BY s.psn_no, s.fixmedins_code, s.reversed ORDER BY s.begntime, s.endtime, s.mdtrt_id
                                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), TRUE) AS last_same,
        ROW_NUMBER() OVER (PARTITION BY s.psn_no, s.reversed ORDER BY s.begntime, s.endtime, s.mdtrt_id) AS rn_any,
        COALESCE(s.endtime >= MAX(s.endtime) OVER (PARTITION BY s.psn_no, s.reversed ORDER BY s.begntime, s.endtime, s.mdtrt_id
                                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), TRUE) AS last_any
    FROM flagged AS s
),
ordered AS (
    -- the previous stay: the last one before this that ended last so far; a withdrawn stay has
    -- none (partitioned by reversed, so a standing stay's previous stay is a standing one)
    SELECT
        s.*,
        CASE WHEN s.reversed THEN NULL ELSE MAX(CASE WHEN s.last_same THEN s.rn_same END) OVER (
            PARTITION BY s.psn_no, s.fixmedins_code, s.reversed ORDER BY s.rn_same
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) END AS prev_same_rn,
        CASE WHEN s.reversed THEN NULL ELSE MAX(CASE WHEN s.last_any THEN s.rn_any END) OVER (
            PARTITION BY s.psn_no, s.reversed ORDER BY s.rn_any
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) END AS prev_any_rn
    FROM seq AS s
)
SELECT
    o.mdtrt_id,
    o.psn_no,
    p.gend,
    CAST(EXTRACT(YEAR FROM o.begn_date) - EXTRACT(YEAR FROM p.brdy)
         - CASE WHEN EXTRACT(MONTH FROM o.begn_date) * 100 + EXTRACT(DAY FROM o.begn_date)
                   < EXTRACT(MONTH FROM p.brdy) * 100 + EXTRACT(DAY FROM p.brdy) THEN 1 ELSE 0 END
         AS BIGINT) AS age,
    o.fixmedins_code,
    i.fixmedins_name,
    i.fixmedins_type,
    i.hosp_lv,
    ${peer_group} AS peer_group,
    o.begntime,
    o.endtime,
    o.begn_date,
    o.end_date,
    CAST(DATE_DIFF('day', o.begn_date, o.end_date) AS BIGINT) AS los_days,
    CAST(DATE_DIFF('day', o.begn_date, o.end_date) + 1 AS BIGINT) AS stay_days,
    o.dise_codg,
    o.dise_name,
    o.dise_category,
    o.atddr_no,
    o.setl_medfee_sumamt AS medfee_sumamt,
    o.setl_hifp_pay AS hifp_pay,
    o.setl_rows,
    ps.mdtrt_id AS prev_same_mdtrt_id,
    CAST(DATE_DIFF('day', ps.end_date, o.begn_date) AS BIGINT) AS gap_prev_same_days,
    pa.mdtrt_id AS prev_any_mdtrt_id,
    pa.fixmedins_code AS prev_any_fixmedins_code,
    CAST(DATE_DIFF('day', pa.end_date, o.begn_date) AS BIGINT) AS gap_prev_any_days
FROM ordered AS o
LEFT JOIN seq AS ps
  ON ps.psn_no = o.psn_no AND ps.fixmedins_code = o.fixmedins_code AND NOT ps.reversed AND ps.rn_same = o.prev_same_rn
LEFT JOIN seq AS pa ON pa.psn_no = o.psn_no AND NOT pa.reversed AND pa.rn_any = o.prev_any_rn
LEFT JOIN psn AS p ON p.psn_no = o.psn_no
LEFT JOIN medins AS i ON i.fixmedins_code = o.fixmedins_code
