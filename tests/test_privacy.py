"""Masking by row: no combination of the columns of a default output rebuilds an ID number or a name.

The attack (issue 23): an ID number is region (6) + birth date (8) + sequence (3, the last digit's
parity is the sex) + a check character computed from the first 17. From every column a default
evidence pack holds — region (``insuplc_admdvs``), birth date (``brdy``), sex (``gend``), the
characters of ``certno`` it shows, the check character, and the age at a visit that the age rules
write into ``detail`` — the attacker enumerates every ID number consistent with them.

Threshold: every person keeps at least 1,000 candidates. With no digit of the number shown and the
sex known, one birth date leaves 500 sequences, so 1,000 means the attacker cannot even pin the
birth date to one day; one guess is right with probability at most 1/1,000 and no shown character
lets them verify it offline. With the old masking (first and last 4 characters next to the full
birth date) most persons of the demo have exactly one candidate: the same attack, which is what
makes this test able to fail.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from workbench.export import export_pack
from workbench.privacy import POLICY, mask_birthdate, mask_certno, mask_frame, mask_name, masked_columns
from workbench.synth.names import CHECK_CHARS, _mod11

MIN_CANDIDATES = 1000
AGE_IN_DETAIL = re.compile(r"参保人(\d+)就诊(\w+?)时(\d+)岁")


def test_mask_certno_and_names():
    assert mask_certno("370102199001011234") == "*" * 18
    assert mask_certno("12345") == "*****"
    assert mask_certno(None) is None
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧*"  # the length of the given name is not shown either
    assert mask_name("李") == "李*"
    assert mask_birthdate(dt.date(1990, 1, 2)) == "1990-**-**"
    assert mask_birthdate(pd.Timestamp("1985-12-12")) == "1985-**-**"
    assert mask_birthdate("1985-12-12") == "1985-**-**"
    assert mask_birthdate(None) is None and mask_birthdate(pd.NaT) is None


def test_mask_frame_masks_only_sensitive_columns():
    df = pd.DataFrame({"psn_no": ["0001"], "certno": ["370102199001011234"], "psn_name": ["王小明"], "dr_name": ["赵医生"],
                       "brdy": [dt.date(1990, 1, 1)], "gend": ["1"], "insuplc_admdvs": ["370102"],
                       "death_date": [dt.date(2024, 3, 1)]})
    m = mask_frame(df)
    assert m.iloc[0].tolist() == ["0001", "*" * 18, "王*", "赵*", "1990-**-**", "1", "370102", dt.date(2024, 3, 1)]
    assert df.iloc[0]["certno"] == "370102199001011234"  # the input is untouched
    assert masked_columns() == sorted(POLICY) == ["brdy", "certno", "dr_name", "inspector_name", "psn_name"]


# --------------------------------------------------------------------------- the attack
def synth_check(first17: np.ndarray) -> np.ndarray:
    """The check character of the synthetic data (deliberately never the real MOD 11-2 one,
    ``workbench/synth/names.py``): a function of the first 17 digits, as the real one is."""
    return CHECK_CHARS[(_mod11(first17) + 1 + first17 % 10) % 11]


def age_at(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def birth_dates(shown, ages) -> list:
    """Every birth date consistent with a shown ``brdy`` (full, year-masked or absent) and ages at visits."""
    text = "" if shown is None or shown != shown else str(shown)[:10]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        days = [dt.date.fromisoformat(text)]
    else:
        lo, hi = (int(text[:4]), int(text[:4])) if text[:4].isdigit() else (1900, 2025)
        first = dt.date(lo, 1, 1)
        days = [first + dt.timedelta(i) for i in range((dt.date(hi, 12, 31) - first).days + 1)]
    return [d for d in days if all(age_at(d, on) == a for on, a in ages)]


def id_candidates(region: str, shown_brdy, sex, shown_certno, ages, check=synth_check) -> int:
    """How many 18-character ID numbers agree with everything shown of one person."""
    seq = np.arange(1000, dtype=np.int64)
    if sex in ("1", "2"):
        seq = seq[seq % 2 == (1 if sex == "1" else 0)]
    pattern = shown_certno if isinstance(shown_certno, str) and len(shown_certno) == 18 else "*" * 18
    if any(c != "*" and c != r for c, r in zip(pattern[:6], region)):
        return 0
    for pos in range(14, 17):
        if pattern[pos] != "*":
            seq = seq[(seq // 10 ** (16 - pos)) % 10 == int(pattern[pos])]
    ymd = np.array([int(b.strftime("%Y%m%d")) for b in birth_dates(shown_brdy, ages)
                    if all(c in ("*", d) for c, d in zip(pattern[6:14], b.strftime("%Y%m%d")))], dtype=np.int64)
    if pattern[17] == "*":
        return len(ymd) * len(seq)
    total = 0
    for start in range(0, len(ymd), 512):  # (dates x sequences) in blocks: the check character of each
        first17 = int(region) * 10 ** 11 + ymd[start:start + 512, None] * 1000 + seq[None, :]
        total += int((check(first17.ravel()) == pattern[17]).sum())
    return total


def attack(tables: dict, findings: pd.DataFrame) -> dict:
    """``{psn_no: candidate count}`` for every person whose row a pack shows (psn or insu rows)."""
    visits = {}
    if "mdtrt" in tables:
        visits = {m: pd.Timestamp(t).date() for m, t in zip(tables["mdtrt"]["mdtrt_id"], tables["mdtrt"]["begntime"])}
    ages = {}
    for detail in findings["detail"]:
        for psn, mdtrt, age in AGE_IN_DETAIL.findall(str(detail)):
            if mdtrt in visits:
                ages.setdefault(psn, []).append((visits[mdtrt], int(age)))
    people = {}
    for table in ("psn", "insu"):
        if table not in tables:
            continue
        for r in tables[table].to_dict("records"):
            p = people.setdefault(r["psn_no"], {"region": None, "brdy": None, "gend": None, "certno": "*" * 18})
            p["region"] = r.get("insuplc_admdvs") or p["region"]
            if r.get("brdy") is not None and r.get("brdy") == r.get("brdy"):
                p["brdy"] = r["brdy"]
            p["gend"] = r.get("gend") or p["gend"]
            shown = str(r.get("certno") or "")
            if len(shown) == 18:  # two rows may show different characters: the attacker combines them
                p["certno"] = "".join(a if a != "*" else b for a, b in zip(p["certno"], shown))
    return {psn: id_candidates(p["region"], p["brdy"], p["gend"], p["certno"], ages.get(psn, []))
            for psn, p in people.items()}


def pack_tables(pack) -> tuple:
    with zipfile.ZipFile(pack) as z:
        tables = {n[len("evidence/"):-len(".parquet")]: pd.read_parquet(io.BytesIO(z.read(n)))
                  for n in z.namelist() if n.startswith("evidence/") and n.endswith(".parquet")}
        findings = pd.read_parquet(io.BytesIO(z.read("findings.parquet")))
    return tables, findings


@pytest.fixture(scope="module")
def packs(demo_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("privacy")
    masked, full = out / "masked.zip", out / "pii.zip"
    export_pack(demo_run, masked, home=out / "home")
    export_pack(demo_run, full, include_pii=True, requested_by="稽核科 测试", home=out / "home")
    return masked, full


def test_no_id_number_is_rebuilt_from_a_default_pack(packs, demo_data):
    masked, full = packs
    tables, findings = pack_tables(masked)
    assert {"psn", "insu", "mdtrt", "dr"} <= set(tables)  # the attack sees persons, visits and doctors
    counts = attack(tables, findings)
    truth = pd.read_parquet(demo_data / "psn.parquet").set_index("psn_no")
    assert len(counts) >= 50 and set(counts) <= set(truth.index)
    aged = {p for d in findings["detail"] for p, _, _ in AGE_IN_DETAIL.findall(d)} & set(counts)
    assert len(aged) >= 10  # ages at visits narrowed these persons' birth dates
    # the attack is sound: the real number is among each person's candidates (with everything
    # the pack shows, nothing more); so a count is a true lower bound of the attacker's work
    full_tables, _ = pack_tables(full)
    real = dict(zip(full_tables["psn"]["psn_no"], full_tables["psn"]["certno"]))
    for psn in list(counts)[:20]:
        p = truth.loc[psn]
        assert p["certno"] == real.get(psn, p["certno"])
        assert p["brdy"].year == int(str(tables["psn"].set_index("psn_no")["brdy"].get(psn, f"{p['brdy'].year}"))[:4])
    worst = min(counts, key=counts.get)
    assert counts[worst] >= MIN_CANDIDATES, (worst, counts[worst])
    assert min(counts[p] for p in aged) < 365 * 500  # the ages did narrow birth dates within the year


def test_the_same_attack_rebuilds_numbers_from_the_old_masking(packs, demo_data):
    """The first 4 and last 4 characters beside the full birth date (the masking before issue 23)."""
    _, full = packs
    tables, findings = pack_tables(full)
    for t in ("psn", "insu"):
        tables[t] = tables[t].assign(certno=[c[:4] + "*" * 10 + c[-4:] for c in tables[t]["certno"]])
    counts = attack(tables, findings)
    real = dict(zip(tables["psn"]["psn_no"], pd.read_parquet(io.BytesIO(zipfile.ZipFile(full).read("evidence/psn.parquet")))["certno"]))
    rebuilt = [p for p, n in counts.items() if n == 1]
    assert len(rebuilt) >= 0.7 * len(counts)
    # and the one candidate is the real number
    p = rebuilt[0]
    row = tables["psn"].set_index("psn_no").loc[p]
    born = pd.Timestamp(row["brdy"]).strftime("%Y%m%d")
    hits = [s for s in range(1000) if f"{row['insuplc_admdvs']}{born}{s:03d}"[-3:] == real[p][14:17]]
    assert hits and real[p][:17] == f"{row['insuplc_admdvs']}{born}{hits[0]:03d}"


def _texts(pack) -> dict:
    """Every file of a pack as text (the XLSX's sheets and shared strings unpacked)."""
    out = {}
    with zipfile.ZipFile(pack) as z:
        for n in z.namelist():
            data = z.read(n)
            if n.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(data)) as x:
                    for m in x.namelist():
                        out[f"{n}/{m}"] = x.read(m).decode("utf-8", "replace")
            elif n.endswith(".parquet"):
                out[n] = pd.read_parquet(io.BytesIO(data)).astype(str).to_csv(index=False)
            else:
                out[n] = data.decode("utf-8-sig", "replace")
    return out


def test_no_id_number_name_or_birth_date_anywhere_in_a_default_pack(packs, demo_data):
    masked, full = packs
    psn = pd.read_parquet(demo_data / "psn.parquet")
    dr = pd.read_parquet(demo_data / "dr.parquet")
    shown = set(pack_tables(masked)[0]["psn"]["psn_no"])
    texts = _texts(masked)
    blob = "\n".join(texts.values())
    certnos = set(psn["certno"])
    assert not [c for c in re.findall(r"\d{17}[\dX]", blob) if c in certnos]
    # names: no cell of any CSV is a person's or a doctor's full name
    names = {n for n in pd.concat([psn["psn_name"], dr["dr_name"]]).dropna() if len(n) >= 2}
    for n, text in texts.items():
        if n.endswith(".csv"):
            cells = set(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).to_numpy().ravel())
            assert not cells & names, n
    # birth dates: the persons shown, by year only
    births = {b.isoformat() for b in psn[psn["psn_no"].isin(shown)]["brdy"]}
    psn_csv = pd.read_csv(io.StringIO(texts["evidence/psn.csv"]), dtype=str)
    assert not set(psn_csv["brdy"]) & births and all(re.fullmatch(r"\d{4}-\*\*-\*\*", b) for b in psn_csv["brdy"])
    assert set(psn_csv["psn_name"].str.len()) == {2} and set(psn_csv["certno"]) == {"*" * 18}
    # --include-pii gives everything, and says so
    full_psn = pd.read_csv(io.StringIO(_texts(full)["evidence/psn.csv"]), dtype=str)
    assert set(full_psn["certno"]) <= certnos and set(full_psn["brdy"]) <= {b.isoformat() for b in psn["brdy"]}
