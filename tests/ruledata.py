"""Test data of the rule engine: the tiny hand-built region, the fixture rule library, and a
small random region touching every contract table (DuckDB vs Spark).

Not the synthetic generator: no planted cases, just varied, seeded values — odd amounts that
need exact rounding, stays that overlap or follow each other, limits that get broken by chance —
so that most rules of the library have something to find.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURE_ROOT = Path(__file__).parent / "rules_fixture"
FIXTURE_LIBRARY = FIXTURE_ROOT / "library"


def tiny_tables() -> dict:
    """Three people, three institutions, seven visits, hand-checked amounts.

    Planted on purpose (see the tests for the exact expected values):
    * P1 died 2024-03-01 and visits H2 on 2024-03-05 (M4, fund 88.88);
    * P2 is readmitted at H1 5 days after discharge with the same ICD-10 category (M1 -> M2);
    * M1 and M2 carry charge lines above 100 yuan whose fund shares need exact rounding.
    """
    psn = pd.DataFrame({
        "psn_no": ["P1", "P2", "P3"], "certno": ["370102195001011234", "370102198002022345", "370102199003033456"],
        "gend": ["1", "2", "1"], "brdy": ["1950-01-01", "1980-02-02", "1990-03-03"],
        "insutype": ["310", "390", "310"], "insuplc_admdvs": ["370102"] * 3,
        "death_date": ["2024-03-01", None, None],
    })
    medins = pd.DataFrame({
        "fixmedins_code": ["H1", "H2", "Y1"], "fixmedins_name": ["甲医院", "乙卫生院", "丙药店"],
        "fixmedins_type": ["1", "1", "2"], "hosp_lv": ["1", "3", "9"], "admdvs": ["370102"] * 3,
    })
    v = [  # mdtrt_id, psn, inst, med_type, begin, end, dise
        ("M1", "P2", "H1", "21", "2024-01-01 08:00", "2024-01-05 10:00", "K35.8"),
        ("M2", "P2", "H1", "21", "2024-01-10 09:00", "2024-01-12 09:00", "K35.2"),
        ("M3", "P2", "H1", "21", "2024-03-01 09:00", "2024-03-03 09:00", "J18.9"),
        ("M4", "P1", "H2", "11", "2024-03-05 10:00", "2024-03-05 10:30", "I10"),
        ("M5", "P1", "H2", "11", "2024-02-20 10:00", "2024-02-20 10:30", "I10"),
        ("M6", "P3", "H1", "21", "2024-02-01 08:00", "2024-02-20 08:00", "K35.1"),
        ("M7", "P3", "H2", "21", "2024-02-25 08:00", "2024-02-27 08:00", "K35.1"),
    ]
    mdtrt = pd.DataFrame(v, columns=["mdtrt_id", "psn_no", "fixmedins_code", "med_type", "begntime", "endtime", "dise_codg"])
    mdtrt["atddr_no"] = "D1"
    s = [  # setl_id, mdtrt_id, medfee, hifp, refund flag
        ("S1", "M1", "1000.00", "700.00", "0"),
        ("S2a", "M2", "800.00", "500.00", "0"),
        ("S2b", "M2", "-100.00", "-60.00", "1"),
        ("S3", "M3", "300.00", "200.00", "0"),
        ("S4", "M4", "120.00", "88.88", "0"),
        ("S5", "M5", "50.00", "30.00", "0"),
        ("S6", "M6", "5000.00", "4000.00", "0"),
        ("S7", "M7", "900.00", "600.00", "0"),
    ]
    setl = pd.DataFrame(s, columns=["setl_id", "mdtrt_id", "medfee_sumamt", "hifp_pay", "refd_setl_flag"])
    setl = setl.merge(mdtrt[["mdtrt_id", "psn_no", "fixmedins_code", "endtime"]], on="mdtrt_id")
    setl = setl.rename(columns={"endtime": "setl_time"})
    f = [  # mdtrt_id, sn, time, code, type, cnt, pric, total
        ("M1", "1", "2024-01-02 09:00", "X001", "09", 1, "150.05", "150.05"),
        ("M1", "2", "2024-01-02 10:00", "X002", "03", 2, "100.00", "200.00"),
        ("M1", "3", "2024-01-03 10:00", "X003", "01", 1, "50.00", "50.00"),
        ("M2", "1", "2024-01-11 09:00", "X001", "09", 1, "333.33", "333.33"),
        ("M3", "1", "2024-03-02 09:00", "X003", "01", 1, "60.00", "60.00"),
    ]
    fee = pd.DataFrame(f, columns=["mdtrt_id", "feedetl_sn", "fee_ocur_time", "med_list_codg", "med_chrgitm_type",
                                   "cnt", "pric", "det_item_fee_sumamt"])
    fee["psn_no"] = fee["mdtrt_id"].map(dict(zip(mdtrt["mdtrt_id"], mdtrt["psn_no"])))
    fee["bilg_dr_codg"] = "D1"
    return {"psn": psn, "medins": medins, "mdtrt": mdtrt, "setl": setl, "fee": fee}

DISE = ["K35.8", "K35.2", "J18.9", "I10", "E11.9", "O80", "N40", "P07.3", "R54", "C61", "N76.0", "M54.5",
        "J06.9", "K29.7", "S72.0", "Z00.0"]
CHRG = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14"]


def _money(x) -> str:
    return f"{x:.2f}"


def random_tables(seed: int = 7, n_psn: int = 120, n_visits: int = 900) -> dict:
    """Contract tables of a small random region (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    # institutions: 6 hospitals of levels 1/2/3, 3 clinics, 3 pharmacies
    inst = [("H%02d" % i, "1", lv) for i, lv in enumerate(["1", "1", "2", "2", "3", "3", "3", "9", "9"], 1)]
    inst += [("Y%02d" % i, "2", "9") for i in range(1, 4)]
    medins = pd.DataFrame({"fixmedins_code": [c for c, _, _ in inst], "fixmedins_name": [f"机构{c}" for c, _, _ in inst],
                           "fixmedins_type": [t for _, t, _ in inst], "hosp_lv": [lv for _, _, lv in inst],
                           "admdvs": ["370102"] * len(inst), "agrmt_stas": ["active"] * len(inst)})
    hospitals = [c for c, t, _ in inst if t == "1"]
    pharmacies = [c for c, t, _ in inst if t == "2"]
    drs = []
    for i in range(1, 31):
        home = hospitals[i % len(hospitals)] if i <= 26 else pharmacies[i % len(pharmacies)]
        drs.append((f"D{i:03d}", home, "doctor" if i <= 26 else "pharmacist"))
    dr = pd.DataFrame({"dr_code": [d for d, _, _ in drs], "dr_name": [f"医生{i}" for i in range(len(drs))],
                       "fixmedins_code": [h for _, h, _ in drs], "dr_type": [t for _, _, t in drs]})
    psn_no = [f"P{i:04d}" for i in range(1, n_psn + 1)]
    certno = [f"37010219{rng.integers(40, 99)}0101{i:04d}" for i in range(n_psn)]
    certno[5] = certno[4]  # one person enrolled twice under two numbers
    brdy = [dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 30000))) for _ in psn_no]
    brdy[7] = dt.date(2024, 1, 10)  # an infant
    death = [None] * n_psn
    for i in rng.choice(n_psn, 6, replace=False):
        death[i] = dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 300)))
    psn = pd.DataFrame({"psn_no": psn_no, "certno": certno, "gend": rng.choice(["1", "2"], n_psn),
                        "brdy": brdy, "insutype": rng.choice(["310", "390"], n_psn),
                        "insuplc_admdvs": ["370102"] * n_psn, "death_date": death})
    insu = pd.DataFrame({"psn_no": psn_no, "certno": certno, "insutype": psn["insutype"],
                         "insuplc_admdvs": ["370102"] * n_psn,
                         "begndate": [dt.date(2020, 1, 1)] * n_psn, "enddate": [None] * n_psn})
    insu.loc[5, "begndate"] = dt.date(2023, 6, 1)

    items = []
    for i in range(1, 41):
        chrg = CHRG[i % len(CHRG)]
        cap = round(float(rng.uniform(5, 300)), 2) if i % 3 else None
        items.append({
            "med_list_codg": f"L{i:03d}", "list_name": f"项目{i}", "med_chrgitm_type": chrg,
            "pric_uplmt_amt": _money(cap) if cap else None,
            "lmt_gend": "2" if i % 13 == 0 else ("1" if i % 17 == 0 else None),
            "lmt_age_min": 18 if i % 11 == 0 else None, "lmt_age_max": 6 if i % 19 == 0 else None,
            "lmt_dise": "E11;E10" if i in (23, 25) else None,
            "lmt_hosp_lv": "2" if i % 5 == 0 else None,
            "max_daily_cnt": float(rng.integers(1, 4)) if chrg not in ("01", "07") else 1.0,
            "per_day": chrg in ("01", "07"), "tcm_therapy": i % 9 == 0,
        })
    lst = pd.DataFrame(items)
    list_incl = pd.DataFrame({"parent_codg": ["L004", "L004", "L018", "L018", "L018"],
                              "child_codg": ["L032", "L033", "L032", "L005", "L019"]})
    codes = list(lst["med_list_codg"]) + ["X999"]  # X999: not in the catalogue
    caps = dict(zip(lst["med_list_codg"], lst["pric_uplmt_amt"]))
    chrg_of = dict(zip(lst["med_list_codg"], lst["med_chrgitm_type"]))
    chrg_of["X999"] = "14"

    visits, setls, fees = [], [], []

    def add_visit(mid, p, inst_code, med_type, begin, end, dise, doc, lines, ratio):
        """One visit, its charge lines ``(code, cnt, pric, when)`` and its settlement(s)."""
        visits.append({"mdtrt_id": mid, "psn_no": p, "fixmedins_code": inst_code, "med_type": med_type,
                       "begntime": begin, "endtime": end, "dise_codg": dise, "atddr_no": doc})
        total = 0
        for sn, (code, cnt, pric, when, bilg) in enumerate(lines, 1):
            amt = round(cnt * pric, 2)
            total += round(amt * 100)
            fees.append({"feedetl_sn": str(sn), "mdtrt_id": mid, "psn_no": p, "fee_ocur_time": when,
                         "med_list_codg": code, "med_chrgitm_type": chrg_of[code], "cnt": cnt,
                         "pric": _money(pric), "det_item_fee_sumamt": _money(amt), "bilg_dr_codg": bilg})
        medfee = total / 100
        hifp = round(medfee * ratio, 2)
        setls.append({"setl_id": f"S{mid}", "mdtrt_id": mid, "psn_no": p, "fixmedins_code": inst_code,
                      "setl_time": end, "medfee_sumamt": _money(medfee), "hifp_pay": _money(hifp),
                      "acct_pay": "0.00", "psn_cash_pay": _money(medfee - hifp), "fund_pay_sumamt": _money(hifp),
                      "refd_setl_flag": "0"})
        return medfee, hifp

    drugs = [c for c in lst["med_list_codg"] if chrg_of[c] in ("09", "10", "11")]
    start = dt.datetime(2024, 1, 1, 8, 0)
    for k in range(n_visits):
        p = psn_no[int(rng.integers(0, n_psn)) if k % 4 else int(rng.integers(0, 15))]  # a few busy people
        med_type = rng.choice(["11", "14", "21", "41"], p=[0.45, 0.1, 0.25, 0.2])
        inst_code = rng.choice(pharmacies) if med_type == "41" else rng.choice(hospitals)
        begin = start + dt.timedelta(days=int(rng.integers(0, 330)), hours=int(rng.integers(0, 10)), minutes=int(rng.integers(0, 59)))
        end = begin + (dt.timedelta(days=int(rng.integers(1, 12)), hours=int(rng.integers(0, 5))) if med_type == "21"
                       else dt.timedelta(minutes=30))
        doc = drs[int(rng.integers(0, 26))][0]
        lines = []
        for _ in range(1, int(rng.integers(1, 9))):
            # H06 bills almost only drugs: a cost-structure outlier among its peers (level 3)
            code = rng.choice(drugs) if inst_code == "H06" and rng.random() < 0.9 else rng.choice(codes)
            cnt = float(rng.choice([1, 1, 2, 3, 0.5, 10, 100 if med_type in ("11", "41") else 1]))
            cap = caps.get(code)
            pric = round(float(cap) * float(rng.choice([0.5, 0.8, 1.0, 1.2])), 2) if cap else round(float(rng.uniform(1, 400)), 2)
            when = begin + dt.timedelta(hours=int(rng.integers(0, max(1, int((end - begin).total_seconds() // 3600) + 48))))
            bilg = doc if rng.random() > 0.05 else drs[int(rng.integers(0, 26))][0]
            lines.append((code, cnt, pric, when, bilg))
        ratio = float(rng.choice([0.5, 0.55, 0.7, 0.75, 0.85, 0.9]))
        medfee, hifp = add_visit(f"M{k:05d}", p, inst_code, med_type, begin, end, rng.choice(DISE), doc, lines, ratio)
        if k % 97 == 0:  # a refund of the whole visit
            setls.append({**setls[-1], "setl_id": f"R{k:05d}", "medfee_sumamt": _money(-medfee), "hifp_pay": _money(-hifp),
                          "psn_cash_pay": _money(hifp - medfee), "fund_pay_sumamt": _money(-hifp), "refd_setl_flag": "1"})

    # Patterns the random visits rarely produce, so that every rule has something to find.
    day = dt.timedelta(days=1)
    for i in range(15):  # 15 outpatient visits in 15 days
        t = dt.datetime(2024, 1, 2, 9) + i * day
        add_visit(f"FO{i:02d}", "P0001", "H01", "11", t, t + dt.timedelta(minutes=20), "I10", "D001",
                  [("L002", 1.0, 12.5, t, "D001")], 0.7)
    for i in range(12):  # 12 pharmacy purchases in 24 days
        t = dt.datetime(2024, 2, 1, 10) + 2 * i * day
        add_visit(f"FP{i:02d}", "P0002", "Y01", "41", t, t + dt.timedelta(minutes=5), "E11.9", None,
                  [("L023", 3.0, 45.67, t, "D028")], 0.55)
    t = dt.datetime(2024, 4, 1, 9)  # a stay with five days of bed fees only (挂床)
    add_visit("GB01", "P0003", "H03", "21", t, t + 5 * day, "M54.5", "D002",
              [("L014", 1.0, 35.0, t + i * day, "D002") for i in range(5)] + [("L009", 1.0, 20.0, t, "D002")], 0.85)
    t = dt.datetime(2024, 6, 3, 9)  # every part of L004 billed, L004 itself not (分解收费)
    add_visit("SB01", "P0010", "H02", "11", t, t + dt.timedelta(minutes=30), "J06.9", "D001",
              [("L032", 1.0, 40.0, t, "D001"), ("L033", 1.0, 60.0, t, "D001")], 0.7)
    for i in range(80):  # one doctor's identical test panel on every visit, with a TCM therapy (包治百病)
        t = dt.datetime(2024, 5, 1, 8) + (i // 4) * day + dt.timedelta(hours=i % 4)
        add_visit(f"TP{i:02d}", psn_no[20 + i % 60], "H05", "11", t, t + dt.timedelta(minutes=30), DISE[i % len(DISE)], "D004",
                  [(c, 1.0, 30.0, t, "D004") for c in ("L002", "L003", "L016", "L018")], 0.75)
    # Items of the knowledge tables of test_without_indication (troponin on a sore throat) and
    # upcoded_consultation (the senior consultation fee at a 一级 hospital), so those rules fire here
    # too and the engines' comparison covers them; no random draw, so every other row is unchanged.
    known = [("250306005", "肌钙蛋白I测定", "04"), ("110200002", "副主任医师门诊诊查费", "02")]
    lst = pd.concat([lst, pd.DataFrame([{
        "med_list_codg": code, "list_name": name, "med_chrgitm_type": chrg, "pric_uplmt_amt": None,
        "lmt_gend": None, "lmt_age_min": None, "lmt_age_max": None, "lmt_dise": None, "lmt_hosp_lv": None,
        "max_daily_cnt": 1.0, "per_day": False, "tcm_therapy": False} for code, name, chrg in known])], ignore_index=True)
    chrg_of.update({code: chrg for code, _, chrg in known})
    for i in range(3):
        t = dt.datetime(2024, 6, 3 + i, 9)
        add_visit(f"KI{i}", psn_no[30 + i], "H02", "11", t, t + dt.timedelta(minutes=30), "J06.9", "D001",
                  [("250306005", 1.0, 45.0, t, "D001")], 0.7)
        add_visit(f"KC{i}", psn_no[40 + i], "H05", "11", t, t + dt.timedelta(minutes=30), "I10", "D004",
                  [("110200002", 1.0, 20.0, t, "D004")], 0.7)
    # setting_limit: the outpatient consultation fee (k_setting_limit: outpatient only) on stays
    lst = pd.concat([lst, pd.DataFrame([{**lst.iloc[-1].to_dict(), "med_list_codg": "110200001",
                                         "list_name": "普通门诊诊查费"}])], ignore_index=True)
    chrg_of["110200001"] = "02"
    for i in range(2):
        t = dt.datetime(2024, 7, 1 + i, 9)
        add_visit(f"KS{i}", psn_no[50 + i], "H02", "21", t, t + 3 * day, "J18.9", "D001",
                  [("110200001", 1.0, 10.0, t, "D001")], 0.8)
    # low_threshold_admission: a stay of two bed days billed a bed and lab tests (L003, type 04) only
    t = dt.datetime(2024, 8, 5, 9)
    add_visit("KL0", psn_no[55], "H03", "21", t, t + 2 * day, "I10", "D002",
              [("L014", 2.0, 35.0, t, "D002"), ("L003", 1.0, 150.0, t, "D002"), ("L003", 1.0, 150.0, t + day, "D002")], 0.7)
    # inpatient_without_treatment: a stay billed its bed (L014) and nothing else
    t = dt.datetime(2024, 8, 12, 9)
    add_visit("KW0", psn_no[56], "H03", "21", t, t + 3 * day, "M54.5", "D002", [("L014", 3.0, 35.0, t, "D002")], 0.7)
    stock = []
    for inst_code in hospitals + pharmacies:
        for code in [c for c in lst["med_list_codg"] if chrg_of[c] in ("09", "11")]:
            for month in ("2024-01", "2024-02", "2024-03"):
                begn, purc = float(rng.integers(0, 5)), float(rng.integers(0, 6))
                stock.append({"fixmedins_code": inst_code, "med_list_codg": code, "period": month, "inv_begn": begn,
                              "purc_cnt": purc, "purc_pric": _money(float(rng.uniform(1, 200))), "sale_cnt": purc,
                              "inv_end": begn})
    # duplicate_ingredient: levofloxacin tablets and infusion (one ingredient in k_drug_ingredient)
    # on one visit; listed after the ledger's draws, so every other row is unchanged
    # and contraindicated_combination: clopidogrel with omeprazole on one visit
    forms = [("XJ01MAL089A001", "左氧氟沙星片(0.5g)"), ("XJ01MAL089B018", "左氧氟沙星氯化钠注射液(0.5g)"),
             ("XB01ACL039A001", "硫酸氢氯吡格雷片(75mg)"), ("XA02BCA211E001", "奥美拉唑肠溶胶囊(20mg)")]
    lst = pd.concat([lst, pd.DataFrame([{**lst.iloc[-1].to_dict(), "med_list_codg": code, "list_name": name,
                                         "med_chrgitm_type": "09"} for code, name in forms])], ignore_index=True)
    chrg_of.update({code: "09" for code, _ in forms})
    for i in range(2):
        t = dt.datetime(2024, 9, 2 + i, 9)
        add_visit(f"KD{i}", psn_no[60 + i], "H04", "11", t, t + dt.timedelta(minutes=30), "J20.9", "D003",
                  [("XJ01MAL089A001", 5.0, 0.5, t, "D003"), ("XJ01MAL089B018", 1.0, 8.5, t, "D003")], 0.7)
        add_visit(f"KX{i}", psn_no[62 + i], "H02", "11", t, t + dt.timedelta(minutes=30), "I25.1", "D001",
                  [("XB01ACL039A001", 14.0, 0.25, t, "D001"), ("XA02BCA211E001", 28.0, 0.12, t, "D001")], 0.7)
    # treatment_course_limit: 注射用血栓通 (paid 14 days a stay) on 16 days of a stay
    lst = pd.concat([lst, pd.DataFrame([{**lst.iloc[-1].to_dict(), "med_list_codg": "ZA12AAX0158040",
                                         "list_name": "注射用血栓通(冻干)(150mg)", "med_chrgitm_type": "11",
                                         "max_daily_cnt": 4.0}])], ignore_index=True)
    chrg_of["ZA12AAX0158040"] = "11"
    t = dt.datetime(2024, 9, 10, 9)
    add_visit("KT0", psn_no[64], "H02", "21", t, t + 18 * day, "I63.9", "D001",
              [("ZA12AAX0158040", 4.0, 12.5, t + k * day, "D001") for k in range(16)], 0.75)
    # rx_drug_without_prescription: amoxicillin bought at a pharmacy without a prescribing doctor
    lst = pd.concat([lst, pd.DataFrame([{**lst.iloc[-1].to_dict(), "med_list_codg": "XJ01CAA042E001",
                                         "list_name": "阿莫西林胶囊(0.25g)", "med_chrgitm_type": "09",
                                         "max_daily_cnt": 6.0}])], ignore_index=True)
    chrg_of["XJ01CAA042E001"] = "09"
    t = dt.datetime(2024, 10, 14, 15)
    add_visit("KR0", psn_no[66], "Y01", "41", t, t + dt.timedelta(minutes=5), "J06.9", None,
              [("XJ01CAA042E001", 24.0, 0.08, t, "D028")], 0.6)
    # card_multi_institution_same_day: one card at three hospitals and a pharmacy on one day
    for i, (where, med_type) in enumerate([("H01", "11"), ("H03", "11"), ("H07", "11"), ("Y02", "41")]):
        t = dt.datetime(2024, 10, 8, 8 + 2 * i)
        add_visit(f"KM{i}", psn_no[65], where, med_type, t, t + dt.timedelta(minutes=30), "J06.9", None if med_type == "41" else "D005",
                  [("L002", 1.0, 12.5, t, "D005")], 0.6)
    # settlement_fee_mismatch: a visit settled 50.00 above its lines (25.00)
    t = dt.datetime(2024, 10, 9, 9)
    add_visit("KF0", psn_no[66], "H02", "11", t, t + dt.timedelta(minutes=30), "J06.9", "D001", [("L002", 2.0, 12.5, t, "D001")], 0.7)
    setls[-1].update(medfee_sumamt=_money(75.0), hifp_pay=_money(52.5), psn_cash_pay=_money(22.5), fund_pay_sumamt=_money(52.5))
    # settlement_outside_enrolment: a person whose spell ended on 1 October settled on 20 October
    insu.loc[67, "enddate"] = dt.date(2024, 10, 1)
    t = dt.datetime(2024, 10, 20, 9)
    add_visit("KE0", psn_no[67], "H03", "11", t, t + dt.timedelta(minutes=30), "J06.9", "D002", [("L002", 1.0, 12.5, t, "D002")], 0.7)
    # out_of_area_concentration: ten persons insured in another city (临沂) with long stays at H08
    psn.loc[80:89, "insuplc_admdvs"] = "371302"
    insu.loc[80:89, "insuplc_admdvs"] = "371302"
    for i in range(10):
        t = dt.datetime(2024, 3, 4 + 2 * i, 9)
        add_visit(f"KO{i}", psn_no[80 + i], "H08", "21", t, t + 12 * day, "I63.9", "D008",
                  [("L014", 12.0, 35.0, t, "D008"), ("L006", 1.0, 30000.0, t, "D008")], 0.8)
    # refd_setl_flag: an outpatient visit reversed by a flagged row whose amounts are sent positive
    t = dt.datetime(2024, 11, 5, 9)
    add_visit("KQ0", psn_no[68], "H04", "11", t, t + dt.timedelta(minutes=30), "J06.9", "D003", [("L002", 1.0, 12.5, t, "D003")], 0.7)
    setls.append({**setls[-1], "setl_id": "RKQ0", "refd_setl_flag": "1"})
    return {"psn": psn, "insu": insu, "medins": medins, "dr": dr, "mdtrt": pd.DataFrame(visits),
            "setl": pd.DataFrame(setls), "fee": pd.DataFrame(fees), "list": lst, "list_incl": list_incl,
            "stock": pd.DataFrame(stock)}
