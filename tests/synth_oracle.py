"""Self-check of a synthetic data folder: an independent, plain-SQL version of each rule
of ``docs/rules-spec.md`` and of the rules planted since (``docs/synth.md``) (default parameters) run against ``truth.parquet``.

It is deliberately separate from ``workbench/rules`` (which is checked *with* it): each query
returns the rule's key columns, and :func:`verify` reports, per rule, the planted cases found
and any finding no one planted. A generated region is right when both are complete and empty.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

AGE = """CAST(YEAR(CAST(m.begntime AS DATE)) - YEAR(p.brdy)
         - CASE WHEN MONTH(CAST(m.begntime AS DATE)) * 100 + DAY(CAST(m.begntime AS DATE)) < MONTH(p.brdy) * 100 + DAY(p.brdy) THEN 1 ELSE 0 END AS INT)"""
CAT = "UPPER(SUBSTR(REPLACE(m.dise_codg, '.', ''), 1, 3))"
RANK = "CASE {x} WHEN '1' THEN 3 WHEN '2' THEN 2 WHEN '3' THEN 1 ELSE 0 END"
SEX_RANGES = [("O00", "O9A", "2"), ("Z32", "Z37", "2"), ("Z39", "Z39", "2"), ("N70", "N98", "2"), ("C51", "C58", "2"),
              ("D06", "D06", "2"), ("D25", "D28", "2"), ("D39", "D39", "2"), ("E28", "E28", "2"), ("Q50", "Q52", "2"),
              ("R87", "R87", "2"), ("N40", "N53", "1"), ("C60", "C63", "1"), ("D29", "D29", "1"), ("D40", "D40", "1"),
              ("E29", "E29", "1"), ("Q53", "Q55", "1"), ("R86", "R86", "1")]
AGE_RANGES = [("P00", "P96", 0, 0), ("Z38", "Z38", 0, 0), ("R95", "R95", 0, 0), ("O00", "O9A", 12, 55), ("R54", "R54", 60, 200)]
VISIT = ["psn_no", "fixmedins_code", "mdtrt_id"]
# 门诊慢特病 conditions (ICD-10 three-character ranges)
CHRONIC_RANGES = [("I10", "I15"), ("E10", "E14"), ("I20", "I25"), ("I50", "I50"), ("I27", "I27"), ("I60", "I69"),
                  ("J44", "J45"), ("N18", "N18"), ("Z49", "Z49"), ("Z94", "Z94"), ("C00", "C97"), ("D00", "D09"),
                  ("D61", "D61"), ("D66", "D68"), ("F20", "F31"), ("G20", "G20"), ("G40", "G40"), ("B18", "B18"),
                  ("K74", "K74"), ("A15", "A19"), ("B20", "B24"), ("M05", "M06"), ("M32", "M32"), ("E05", "E05")]

# tests that need an indication: (item code, ICD-10 prefix), from the knowledge table the rule reads
with open(Path(__file__).resolve().parents[1] / "workbench" / "rules" / "knowledge" / "k_test_indication.csv",
          encoding="utf-8", newline="") as _fh:
    TEST_INDICATIONS = [(r["med_list_codg"], p) for r in csv.DictReader(_fh) for p in r["dx_prefixes"].split(";")]
# consultation grades and the lowest level allowed to bill them: (item code, level code)
with open(Path(__file__).resolve().parents[1] / "workbench" / "rules" / "knowledge" / "k_consultation_level.csv",
          encoding="utf-8", newline="") as _fh:
    CONSULT_LEVELS = [(r["med_list_codg"], r["min_hosp_lv"]) for r in csv.DictReader(_fh)]

# drug codes sharing one ingredient: (item code, ingredient), from the knowledge table the rule reads
with open(Path(__file__).resolve().parents[1] / "workbench" / "rules" / "knowledge" / "k_drug_ingredient.csv",
          encoding="utf-8", newline="") as _fh:
    INGREDIENTS = [(r["med_list_codg"], r["ingredient"]) for r in csv.DictReader(_fh)]
# drug pairs that must not be combined: (code a, code b), from the knowledge table the rule reads
with open(Path(__file__).resolve().parents[1] / "workbench" / "rules" / "knowledge" / "k_drug_contraindication.csv",
          encoding="utf-8", newline="") as _fh:
    CONTRAINDICATED = [(r["med_list_codg_a"], r["med_list_codg_b"]) for r in csv.DictReader(_fh)]
# drugs paid for at most so many days of one stay: (code, days), the per-stay rows of the rule's table
with open(Path(__file__).resolve().parents[1] / "workbench" / "rules" / "knowledge" / "k_drug_course_limit.csv",
          encoding="utf-8", newline="") as _fh:
    COURSE_LIMITS = [(r["med_list_codg"], int(r["max_days"])) for r in csv.DictReader(_fh) if r["scope"] == "stay"]
# prescription-only drugs a pharmacy sells on a prescription only
with open(Path(__file__).resolve().parents[1] / "workbench" / "rules" / "knowledge" / "k_rx_only.csv",
          encoding="utf-8", newline="") as _fh:
    RX_ONLY = [r["med_list_codg"] for r in csv.DictReader(_fh)]
# items paid in one setting only: (item code, 'inpatient' or 'outpatient')
with open(Path(__file__).resolve().parents[1] / "workbench" / "rules" / "knowledge" / "k_setting_limit.csv",
          encoding="utf-8", newline="") as _fh:
    SETTING_LIMITS = [(r["med_list_codg"], r["setting"]) for r in csv.DictReader(_fh)]


def _values(rows):
    return ", ".join("(" + ", ".join(repr(x) for x in r) + ")" for r in rows)


RULES = {
    "split_hospitalization": (VISIT, """
        WITH s AS (SELECT mdtrt_id, psn_no, fixmedins_code, begntime, endtime, CAST(begntime AS DATE) b, CAST(endtime AS DATE) e,
                          UPPER(SUBSTR(REPLACE(dise_codg, '.', ''), 1, 3)) c FROM mdtrt WHERE med_type = '21'),
             o AS (SELECT *, LAG(e) OVER w pe, LAG(c) OVER w pc FROM s
                   WINDOW w AS (PARTITION BY psn_no, fixmedins_code ORDER BY begntime, endtime, mdtrt_id))
        SELECT psn_no, fixmedins_code, mdtrt_id FROM o WHERE DATE_DIFF('day', pe, b) BETWEEN 0 AND 15 AND c = pc"""),
    "frequent_outpatient": (["psn_no"], """
        SELECT DISTINCT psn_no FROM (SELECT psn_no, COUNT(*) OVER (PARTITION BY psn_no ORDER BY CAST(begntime AS DATE)
               RANGE BETWEEN CURRENT ROW AND INTERVAL 29 DAYS FOLLOWING) n FROM mdtrt WHERE med_type IN ('11', '14')) WHERE n > 12"""),
    "frequent_purchase": (["psn_no"], """
        SELECT DISTINCT psn_no FROM (SELECT psn_no, COUNT(*) OVER (PARTITION BY psn_no ORDER BY CAST(begntime AS DATE)
               RANGE BETWEEN CURRENT ROW AND INTERVAL 29 DAYS FOLLOWING) n FROM mdtrt WHERE med_type = '41') WHERE n > 10"""),
    "frequent_admission": (["psn_no"], """
        SELECT DISTINCT psn_no FROM (SELECT psn_no, COUNT(*) OVER (PARTITION BY psn_no ORDER BY CAST(begntime AS DATE)
               RANGE BETWEEN CURRENT ROW AND INTERVAL 364 DAYS FOLLOWING) n FROM mdtrt WHERE med_type = '21') WHERE n > 6"""),
    "diagnosis_sex_mismatch": (VISIT, f"""
        WITH k(lo, hi, g) AS (VALUES {_values(SEX_RANGES)})
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM mdtrt m JOIN psn p USING (psn_no)
        JOIN k ON {CAT} BETWEEN k.lo AND k.hi WHERE p.gend IN ('1', '2') AND p.gend <> k.g"""),
    "diagnosis_age_mismatch": (VISIT, f"""
        WITH k(lo, hi, amin, amax) AS (VALUES {_values(AGE_RANGES)})
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM mdtrt m JOIN psn p USING (psn_no)
        JOIN k ON {CAT} BETWEEN k.lo AND k.hi WHERE {AGE} < k.amin OR {AGE} > k.amax"""),
    "charge_outside_stay": (VISIT, """
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM mdtrt m JOIN fee f USING (mdtrt_id)
        WHERE m.med_type = '21' AND (CAST(f.fee_ocur_time AS DATE) < CAST(m.begntime AS DATE) OR CAST(f.fee_ocur_time AS DATE) > CAST(m.endtime AS DATE))"""),
    "price_over_cap": (VISIT, """
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        JOIN list l USING (med_list_codg) WHERE f.pric > l.pric_uplmt_amt"""),
    "duplicate_billing": (VISIT, """
        WITH d AS (SELECT f.mdtrt_id FROM fee f JOIN list_incl i ON f.med_list_codg = i.child_codg
                   JOIN fee g ON g.mdtrt_id = f.mdtrt_id AND g.med_list_codg = i.parent_codg
                   UNION SELECT mdtrt_id FROM fee GROUP BY mdtrt_id, med_list_codg, fee_ocur_time HAVING COUNT(*) > 1)
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM d JOIN mdtrt m USING (mdtrt_id)"""),
    "split_billing": (VISIT, """
        WITH kids AS (SELECT parent_codg, COUNT(*) n FROM list_incl GROUP BY 1),
             have AS (SELECT f.mdtrt_id, i.parent_codg, COUNT(DISTINCT f.med_list_codg) n FROM fee f
                      JOIN list_incl i ON f.med_list_codg = i.child_codg GROUP BY 1, 2)
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM have h JOIN kids k USING (parent_codg) JOIN mdtrt m USING (mdtrt_id)
        WHERE h.n = k.n AND NOT EXISTS (SELECT 1 FROM fee f WHERE f.mdtrt_id = h.mdtrt_id AND f.med_list_codg = h.parent_codg)"""),
    "frequency_limit": (VISIT, """
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN list l USING (med_list_codg) JOIN mdtrt m USING (mdtrt_id)
        WHERE l.med_chrgitm_type NOT IN ('09', '10', '11') AND l.max_daily_cnt IS NOT NULL
        GROUP BY m.psn_no, m.fixmedins_code, m.mdtrt_id, f.med_list_codg, CAST(f.fee_ocur_time AS DATE), l.max_daily_cnt
        HAVING SUM(f.cnt) > l.max_daily_cnt"""),
    "drug_indication_limit": (VISIT, """
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN list l USING (med_list_codg) JOIN mdtrt m USING (mdtrt_id)
        WHERE l.med_chrgitm_type IN ('09', '10', '11') AND l.lmt_dise IS NOT NULL
          AND LEN(LIST_FILTER(STRING_SPLIT(l.lmt_dise, ';'), lambda x: STARTS_WITH(m.dise_codg, x))) = 0"""),
    "dispensing_over_limit": (VISIT, """
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN list l USING (med_list_codg) JOIN mdtrt m USING (mdtrt_id)
        WHERE m.med_type IN ('11', '14', '41') AND l.med_chrgitm_type IN ('09', '10', '11') AND l.max_daily_cnt > 0
        GROUP BY m.psn_no, m.fixmedins_code, m.mdtrt_id, m.med_type, f.med_list_codg, l.max_daily_cnt
        HAVING SUM(f.cnt) / l.max_daily_cnt > CASE WHEN m.med_type = '14' THEN 84 ELSE 30 END"""),
    "hospital_level_limit": (VISIT, f"""
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN list l USING (med_list_codg) JOIN mdtrt m USING (mdtrt_id)
        JOIN medins i ON i.fixmedins_code = m.fixmedins_code
        WHERE l.lmt_hosp_lv IS NOT NULL AND {RANK.format(x='i.hosp_lv')} < {RANK.format(x='l.lmt_hosp_lv')}"""),
    "stock_mismatch": (["fixmedins_code"], """
        WITH b AS (SELECT m.fixmedins_code, f.med_list_codg, STRFTIME(f.fee_ocur_time, '%Y-%m') period, SUM(f.cnt) q
                   FROM fee f JOIN mdtrt m USING (mdtrt_id) GROUP BY 1, 2, 3)
        SELECT DISTINCT b.fixmedins_code FROM b
        JOIN (SELECT fixmedins_code, med_list_codg, period, SUM(inv_begn) inv_begn, SUM(purc_cnt) purc_cnt FROM stock GROUP BY 1, 2, 3) s
          USING (fixmedins_code, med_list_codg, period) WHERE b.q > s.inv_begn + s.purc_cnt"""),
    "item_sex_limit": (VISIT, """
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN list l USING (med_list_codg) JOIN mdtrt m USING (mdtrt_id)
        JOIN psn p ON p.psn_no = m.psn_no WHERE l.lmt_gend IS NOT NULL AND p.gend IN ('1', '2') AND p.gend <> l.lmt_gend"""),
    "item_age_limit": (VISIT, f"""
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN list l USING (med_list_codg) JOIN mdtrt m USING (mdtrt_id)
        JOIN psn p ON p.psn_no = m.psn_no WHERE {AGE} < l.lmt_age_min OR {AGE} > l.lmt_age_max"""),
    "claims_after_death": (VISIT, """
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM mdtrt m JOIN psn p USING (psn_no) WHERE CAST(m.begntime AS DATE) > p.death_date"""),
    "outpatient_during_stay": (VISIT, """
        SELECT DISTINCT o.psn_no, o.fixmedins_code, o.mdtrt_id FROM mdtrt o JOIN mdtrt s ON s.psn_no = o.psn_no AND s.med_type = '21'
        WHERE o.med_type IN ('11', '14', '41') AND CAST(o.begntime AS DATE) > CAST(s.begntime AS DATE)
          AND CAST(o.begntime AS DATE) < CAST(s.endtime AS DATE)"""),
    "overlapping_stays": (VISIT, """
        SELECT DISTINCT b.psn_no, b.fixmedins_code, b.mdtrt_id FROM mdtrt a JOIN mdtrt b ON a.psn_no = b.psn_no
        WHERE a.med_type = '21' AND b.med_type = '21' AND (b.begntime, b.mdtrt_id) > (a.begntime, a.mdtrt_id)
          AND DATE_DIFF('day', CAST(a.endtime AS DATE), CAST(b.begntime AS DATE)) < 0"""),
    "ghost_bed": (VISIT, """
        WITH d AS (SELECT f.mdtrt_id, CAST(f.fee_ocur_time AS DATE) fee_day FROM fee f JOIN mdtrt m USING (mdtrt_id) WHERE m.med_type = '21'
                   GROUP BY 1, 2 HAVING SUM(CASE WHEN f.med_chrgitm_type = '01' THEN 1 ELSE 0 END) > 0
                      AND SUM(CASE WHEN f.med_chrgitm_type NOT IN ('01', '07') THEN 1 ELSE 0 END) = 0)
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM d JOIN mdtrt m USING (mdtrt_id)
        GROUP BY m.psn_no, m.fixmedins_code, m.mdtrt_id HAVING COUNT(*) >= 3"""),
    "bed_days_over_stay": (VISIT, """
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        WHERE m.med_type = '21' AND f.med_chrgitm_type = '01' GROUP BY 1, 2, 3, m.begntime, m.endtime
        HAVING SUM(f.cnt) > GREATEST(DATE_DIFF('day', CAST(m.begntime AS DATE), CAST(m.endtime AS DATE)), 1)"""),
    "chronic_outpatient_without_diagnosis": (VISIT, f"""
        WITH k(a, b) AS (VALUES {_values(CHRONIC_RANGES)}),
             q AS (SELECT DISTINCT m.psn_no FROM mdtrt m JOIN k ON {CAT} BETWEEN k.a AND k.b)
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM mdtrt m WHERE m.med_type = '14' AND m.psn_no NOT IN (SELECT psn_no FROM q)"""),
    "test_without_indication": (VISIT, f"""
        WITH k(code, prefix) AS (VALUES {_values(TEST_INDICATIONS)})
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        WHERE f.med_list_codg IN (SELECT code FROM k) AND COALESCE(m.dise_codg, '') <> ''
          AND NOT EXISTS (SELECT 1 FROM k WHERE k.code = f.med_list_codg
                          AND STARTS_WITH(UPPER(REPLACE(m.dise_codg, '.', '')), k.prefix))
        UNION
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        WHERE f.med_chrgitm_type IN ('03', '04') AND SUBSTR(REPLACE(m.dise_codg, '.', ''), 1, 3) IN ('Z00', 'Z02', 'Z10')
          AND m.mdtrt_id IN (SELECT mdtrt_id FROM setl GROUP BY 1 HAVING SUM(hifp_pay) > 0)"""),
    "nursing_days_over_stay": (VISIT, """
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id) JOIN list l USING (med_list_codg)
        WHERE m.med_type = '21' AND f.med_chrgitm_type = '07' AND l.per_day
        GROUP BY 1, 2, 3, m.begntime, m.endtime,
                 CASE WHEN f.med_list_codg IN ('120100003', '120100004', '120100005') THEN 'grade' ELSE f.med_list_codg END
        HAVING SUM(f.cnt) > GREATEST(DATE_DIFF('day', CAST(m.begntime AS DATE), CAST(m.endtime AS DATE)), 1)"""),
    "repeated_consultation_fee": (VISIT, f"""
        WITH k(code, lv) AS (VALUES {_values(CONSULT_LEVELS)}),
             i AS (SELECT f.mdtrt_id, f.med_list_codg, LEAST(SUM(f.cnt), COALESCE(MAX(l.max_daily_cnt), SUM(f.cnt))) n
                   FROM fee f JOIN mdtrt m USING (mdtrt_id) JOIN medins h ON h.fixmedins_code = m.fixmedins_code
                   LEFT JOIN list l USING (med_list_codg) LEFT JOIN k ON k.code = f.med_list_codg
                   WHERE m.med_type IN ('11', '14') AND f.med_chrgitm_type IN ('02', '12')
                     AND NOT COALESCE({RANK.format(x='h.hosp_lv')} < {RANK.format(x='k.lv')}, FALSE)
                   GROUP BY 1, 2)
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM i JOIN mdtrt m USING (mdtrt_id) GROUP BY 1, 2, 3 HAVING SUM(i.n) > 1"""),
    "setting_limit": (VISIT, f"""
        WITH k(code, setting) AS (VALUES {_values(SETTING_LIMITS)})
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id) JOIN k ON k.code = f.med_list_codg
        WHERE (k.setting = 'inpatient' AND m.med_type <> '21') OR (k.setting = 'outpatient' AND m.med_type = '21')"""),
    "low_threshold_admission": (VISIT, """
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        WHERE m.med_type = '21' AND DATE_DIFF('day', CAST(m.begntime AS DATE), CAST(m.endtime AS DATE)) <= 3
        GROUP BY 1, 2, 3
        HAVING SUM(CASE WHEN f.med_chrgitm_type IN ('03', '04') THEN f.det_item_fee_sumamt END) >= 0.6 * SUM(f.det_item_fee_sumamt)
           AND SUM(CASE WHEN f.med_chrgitm_type IN ('05', '06', '09', '10', '11') THEN f.det_item_fee_sumamt ELSE 0 END)
               <= 0.01 * SUM(f.det_item_fee_sumamt)"""),
    "inpatient_without_treatment": (VISIT, """
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        WHERE m.med_type = '21' GROUP BY 1, 2, 3
        HAVING COUNT(CASE WHEN f.med_chrgitm_type = '01' THEN 1 END) > 0
           AND COUNT(CASE WHEN f.med_chrgitm_type IN ('03', '04', '05', '06', '08', '09', '10', '11') THEN 1 END) = 0"""),
    "upcoded_consultation": (VISIT, f"""
        WITH k(code, lv) AS (VALUES {_values(CONSULT_LEVELS)})
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        JOIN medins i ON i.fixmedins_code = m.fixmedins_code JOIN k ON k.code = f.med_list_codg
        WHERE {RANK.format(x='i.hosp_lv')} < {RANK.format(x='k.lv')}"""),
    "overlapping_prescriptions": (VISIT, f"""
        WITH k(code, ing) AS (VALUES {_values(INGREDIENTS)}),
             d AS (SELECT m.mdtrt_id, m.psn_no, m.fixmedins_code, CAST(m.begntime AS DATE) d0,
                          COALESCE(k.ing, f.med_list_codg) drug, SUM(f.cnt) / MAX(l.max_daily_cnt) n_days
                   FROM fee f JOIN mdtrt m USING (mdtrt_id) JOIN list l USING (med_list_codg)
                   LEFT JOIN k ON k.code = f.med_list_codg
                   WHERE f.med_chrgitm_type IN ('09', '10', '11') AND l.max_daily_cnt > 0
                     AND (m.med_type IN ('11', '14') OR (m.med_type = '41' AND COALESCE(m.atddr_no, '') <> ''))
                   GROUP BY ALL HAVING SUM(f.cnt) > 0)
        SELECT DISTINCT b.psn_no, b.fixmedins_code, b.mdtrt_id FROM d a JOIN d b
          ON a.psn_no = b.psn_no AND a.drug = b.drug AND a.fixmedins_code <> b.fixmedins_code
         AND (a.d0 < b.d0 OR (a.d0 = b.d0 AND a.mdtrt_id < b.mdtrt_id))
        WHERE LEAST(a.n_days - DATE_DIFF('day', a.d0, b.d0), b.n_days) > 7"""),
    "duplicate_ingredient": (VISIT, f"""
        WITH k(code, ing) AS (VALUES {_values(INGREDIENTS)}),
             x AS (SELECT f.mdtrt_id, CAST(f.fee_ocur_time AS DATE) d, k.ing, f.med_list_codg FROM fee f
                   JOIN k ON k.code = f.med_list_codg GROUP BY ALL HAVING SUM(f.cnt) > 0)
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM x JOIN mdtrt m USING (mdtrt_id)
        GROUP BY m.psn_no, m.fixmedins_code, m.mdtrt_id, x.d, x.ing HAVING COUNT(*) > 1"""),
    "contraindicated_combination": (VISIT, f"""
        WITH k(a, b) AS (VALUES {_values(CONTRAINDICATED)}),
             x AS (SELECT f.mdtrt_id, CAST(f.fee_ocur_time AS DATE) d, f.med_list_codg c FROM fee f
                   GROUP BY ALL HAVING SUM(f.cnt) > 0)
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM x xa JOIN k ON k.a = xa.c
        JOIN x xb ON xb.mdtrt_id = xa.mdtrt_id AND xb.d = xa.d AND xb.c = k.b JOIN mdtrt m ON m.mdtrt_id = xa.mdtrt_id"""),
    "treatment_course_limit": (VISIT, f"""
        WITH k(code, max_days) AS (VALUES {_values(COURSE_LIMITS)})
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        JOIN list l USING (med_list_codg) JOIN k ON k.code = f.med_list_codg
        WHERE m.med_type = '21' GROUP BY 1, 2, 3, f.med_list_codg HAVING SUM(f.cnt) / MAX(l.max_daily_cnt) > MAX(k.max_days)"""),
    "rx_drug_without_prescription": (VISIT, f"""
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        WHERE m.med_type = '41' AND COALESCE(TRIM(m.atddr_no), '') = '' AND f.med_list_codg IN ({", ".join(repr(c) for c in RX_ONLY)})
        GROUP BY 1, 2, 3, f.med_list_codg HAVING SUM(f.cnt) > 0"""),
    "duplicate_enrollment": (["psn_no"], """
        WITH c AS (SELECT DISTINCT a.certno FROM insu a JOIN insu b ON a.certno = b.certno AND (a.psn_no, a.begndate) < (b.psn_no, b.begndate)
                   WHERE a.begndate <= COALESCE(b.enddate, DATE '9999-12-31') AND b.begndate <= COALESCE(a.enddate, DATE '9999-12-31'))
        SELECT MIN(p.psn_no) psn_no FROM psn p JOIN c USING (certno) GROUP BY c.certno"""),
    "drug_markup": (["fixmedins_code"], """
        WITH b AS (SELECT m.fixmedins_code, f.med_list_codg, STRFTIME(f.fee_ocur_time, '%Y-%m') period, MAX(f.pric) pric
                   FROM fee f JOIN mdtrt m USING (mdtrt_id) WHERE f.med_chrgitm_type IN ('09', '11') GROUP BY 1, 2, 3)
        SELECT DISTINCT b.fixmedins_code FROM b JOIN stock s USING (fixmedins_code, med_list_codg, period) WHERE b.pric > s.purc_pric"""),
    "doctor_impossible_volume": (["dr_code", "fixmedins_code"], """
        SELECT DISTINCT d.dr_code, d.fixmedins_code FROM mdtrt m JOIN dr d ON d.dr_code = m.atddr_no
        GROUP BY d.dr_code, d.fixmedins_code, CAST(m.begntime AS DATE) HAVING COUNT(*) > 80
        UNION SELECT DISTINCT d.dr_code, d.fixmedins_code FROM fee f JOIN mdtrt m USING (mdtrt_id) JOIN dr d ON d.dr_code = f.bilg_dr_codg
        WHERE d.fixmedins_code <> m.fixmedins_code"""),
    "test_panel_uniformity": (["dr_code", "fixmedins_code"], f"""
        WITH t AS (SELECT m.mdtrt_id, m.atddr_no, {CAT} c,
                          STRING_AGG(DISTINCT f.med_list_codg, ',' ORDER BY f.med_list_codg) FILTER (WHERE f.med_chrgitm_type IN ('03', '04')) s,
                          COUNT(DISTINCT f.med_list_codg) FILTER (WHERE f.med_chrgitm_type IN ('03', '04')) k
                   FROM mdtrt m JOIN fee f USING (mdtrt_id) WHERE m.med_type IN ('11', '14') AND m.atddr_no IS NOT NULL GROUP BY 1, 2, 3),
             n AS (SELECT atddr_no, COUNT(*) n FROM t GROUP BY 1),
             top AS (SELECT atddr_no, s, COUNT(*) v, COUNT(DISTINCT c) cats FROM t WHERE k >= 3 GROUP BY 1, 2)
        SELECT DISTINCT d.dr_code, d.fixmedins_code FROM top JOIN n USING (atddr_no) JOIN dr d ON d.dr_code = top.atddr_no
        WHERE n.n >= 30 AND top.v >= 0.9 * n.n AND top.cats >= 5"""),
    "tcm_therapy_abuse": (["fixmedins_code"], f"""
        WITH v AS (SELECT m.mdtrt_id, m.fixmedins_code, {CAT} c, BOOL_OR(COALESCE(l.tcm_therapy, FALSE)) tcm
                   FROM mdtrt m JOIN fee f USING (mdtrt_id) LEFT JOIN list l USING (med_list_codg)
                   WHERE m.med_type IN ('11', '14') GROUP BY 1, 2, 3)
        SELECT fixmedins_code FROM v GROUP BY 1
        HAVING COUNT(*) >= 50 AND AVG(CASE WHEN tcm THEN 1 ELSE 0 END) >= 0.6 AND COUNT(DISTINCT c) FILTER (WHERE tcm) >= 5"""),
    "unlisted_item": (VISIT, """
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM fee f JOIN mdtrt m USING (mdtrt_id)
        WHERE f.med_list_codg NOT IN (SELECT med_list_codg FROM list)"""),
    "card_multi_institution_same_day": (["psn_no"], """
        SELECT DISTINCT psn_no FROM mdtrt GROUP BY psn_no, CAST(begntime AS DATE) HAVING COUNT(DISTINCT fixmedins_code) >= 4"""),
    "settlement_fee_mismatch": (VISIT, """
        WITH s AS (SELECT mdtrt_id, SUM(medfee_sumamt) m FROM setl GROUP BY 1), f AS (SELECT mdtrt_id, SUM(det_item_fee_sumamt) a FROM fee GROUP BY 1)
        SELECT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM s JOIN f USING (mdtrt_id) JOIN mdtrt m USING (mdtrt_id) WHERE ABS(s.m - f.a) > 1"""),
    "settlement_outside_enrolment": (VISIT, """
        SELECT DISTINCT m.psn_no, m.fixmedins_code, m.mdtrt_id FROM setl s JOIN mdtrt m USING (mdtrt_id) JOIN psn p ON p.psn_no = m.psn_no
        WHERE s.refd_setl_flag = '0' AND (p.death_date IS NULL OR CAST(s.setl_time AS DATE) <= p.death_date)
          AND NOT EXISTS (SELECT 1 FROM insu i WHERE i.psn_no = m.psn_no
                          AND CAST(s.setl_time AS DATE) BETWEEN i.begndate AND COALESCE(i.enddate, DATE '9999-12-31'))"""),
    "out_of_area_concentration": (["fixmedins_code"], """
        WITH v AS (SELECT m.fixmedins_code, m.psn_no, s.hifp, LEFT(p.insuplc_admdvs, 4) r, LEFT(i.admdvs, 4) ir
                   FROM mdtrt m JOIN (SELECT mdtrt_id, SUM(hifp_pay) hifp FROM setl GROUP BY 1) s USING (mdtrt_id)
                   JOIN psn p ON p.psn_no = m.psn_no JOIN medins i ON i.fixmedins_code = m.fixmedins_code WHERE i.fixmedins_type = '1'),
             t AS (SELECT fixmedins_code, SUM(hifp) f FROM v GROUP BY 1),
             a AS (SELECT fixmedins_code, r, SUM(hifp) af, COUNT(DISTINCT psn_no) n FROM v WHERE r <> ir GROUP BY 1, 2)
        SELECT DISTINCT fixmedins_code FROM a JOIN t USING (fixmedins_code) WHERE af >= 0.3 * f AND n >= 10"""),
}


def cost_share_outliers(session, z_min=3.5, margin=0.15) -> set:
    """Institutions whose drug, test, consumable or treatment share is a robust outlier in
    their peer group (type x level)."""
    df = session.df("""
        SELECT i.fixmedins_code, i.fixmedins_type || '-' || i.hosp_lv g,
               SUM(CASE WHEN f.med_chrgitm_type IN ('09', '10', '11') THEN f.det_item_fee_sumamt ELSE 0 END) / SUM(f.det_item_fee_sumamt) drug,
               SUM(CASE WHEN f.med_chrgitm_type IN ('03', '04') THEN f.det_item_fee_sumamt ELSE 0 END) / SUM(f.det_item_fee_sumamt) test,
               SUM(CASE WHEN f.med_chrgitm_type = '08' THEN f.det_item_fee_sumamt ELSE 0 END) / SUM(f.det_item_fee_sumamt) consumable,
               SUM(CASE WHEN f.med_chrgitm_type = '05' THEN f.det_item_fee_sumamt ELSE 0 END) / SUM(f.det_item_fee_sumamt) treatment
        FROM fee f JOIN mdtrt m USING (mdtrt_id) JOIN medins i ON i.fixmedins_code = m.fixmedins_code GROUP BY 1, 2""")
    out = set()
    for _, grp in df.groupby("g"):
        for col in ("drug", "test", "consumable", "treatment"):
            x = grp[col].astype(float)
            med = x.median()
            mad = 1.4826 * (x - med).abs().median()
            z = (x - med) / mad if mad > 0 else (x > med) * float("inf")
            out |= set(grp.fixmedins_code[(z > z_min) & (x >= med + margin)])
    return out


def flagged(session, rule) -> set:
    """Key tuples the reference version of ``rule`` finds."""
    cols, sql = RULES[rule]
    return {tuple(r) for r in session.sql(sql).fetchall()}


def truth_keys(session, rule) -> set:
    """Key tuples of the truth rows of ``rule`` (keys of the rule's grain)."""
    cols = RULES[rule][0] if rule in RULES else ["fixmedins_code"]
    q = f"SELECT DISTINCT {', '.join(cols)} FROM truth WHERE rule_id = ?"
    return {tuple(r) for r in session.con.execute(q, [rule]).fetchall()}


def verify(session) -> pd.DataFrame:
    """Per rule: planted cases, found, missed and unplanted findings (``unplanted`` = 0 and
    ``missed`` = 0 for every rule means the data and its truth agree)."""
    rows = []
    for rule in list(RULES) + ["cost_share_outlier"]:
        found = flagged(session, rule) if rule in RULES else {(k,) for k in cost_share_outliers(session)}
        planted = truth_keys(session, rule)
        rows.append({"rule_id": rule, "planted": len(planted), "found": len(found & planted),
                     "missed": len(planted - found), "unplanted": len(found - planted)})
    return pd.DataFrame(rows)
