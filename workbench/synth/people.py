"""Insured persons of one chunk: a China-like age and sex pyramid, insurance type, chronic
conditions, deaths, where they are seen, and their enrolment spells (``psn``, ``insu``)."""
from __future__ import annotations

import csv

import numpy as np
import pyarrow as pa

from .cols import Cols
from .knowledge import DATA
from .names import certnos, person_names
from .region import D, Region
from .sampling import DAYS, EPOCH_DAY, YEAR, categorical, concat_str, dates, padded

NO_DEATH = 10_000
# chronic conditions: bit, ICD-10 code, prevalence by age band (<35, 35-44, 45-59, 60-74, 75+)
CHRONIC = (
    (1, "I10", (0.005, 0.04, 0.10, 0.20, 0.25)),
    (2, "E11.9", (0.002, 0.02, 0.05, 0.09, 0.09)),
    (4, "I25.1", (0.0, 0.005, 0.02, 0.05, 0.08)),
    (8, "J44.9", (0.0, 0.0, 0.01, 0.03, 0.05)),
    (16, "I69.3", (0.0, 0.0, 0.005, 0.02, 0.04)),
)
MORTALITY = ((0, 0.004), (1, 0.0006), (40, 0.003), (60, 0.009), (70, 0.025), (80, 0.07), (90, 0.18))
SEQ_SHUFFLE = np.random.default_rng(18).permutation(500)  # fixed: part of the ID layout, not of the seed


def _pyramid():
    with open(DATA / "pyramid.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    start = np.array([int(r["age_from"]) for r in rows])
    w = np.array([[float(r["male"]), float(r["female"])] for r in rows])
    return start, w


def _band(age):
    return np.searchsorted(np.array([35, 45, 60, 75]), age, side="right")


def make_people(chunk, region: Region, know, rng) -> Cols:
    """The persons of ``chunk`` with everything later steps need (one row per person)."""
    n = chunk.persons
    c = chunk.county
    start, w = _pyramid()
    cell = categorical(w.ravel(), n, rng)
    age0 = np.minimum(start[cell // 2] + rng.integers(0, 5, n), 99)
    sex = (cell % 2 + 1).astype(np.int8)
    by = (YEAR - 1 - age0).astype(np.int64)
    y0 = (by - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    ylen = ((by + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]") - y0).astype(np.int64)
    birth = y0 + (rng.random(n) * ylen).astype(np.int64)
    bmonth = birth.astype("datetime64[M]")
    bmd = ((bmonth.astype(np.int64) % 12 + 1) * 100 + (birth - bmonth.astype("datetime64[D]")).astype(np.int64) + 1).astype(np.int64)
    birth_day = birth.astype(np.int64) - EPOCH_DAY  # day of the year (negative: before 2024)

    urban = region.county_urban[c]
    p310 = np.where(age0 < 18, 0.0, np.where(age0 < 60, 0.55 if urban else 0.30, 0.35 if urban else 0.15))
    insutype = np.where(rng.random(n) < p310, 310, 390).astype(np.int64)

    band = _band(age0)
    chronic = np.zeros(n, dtype=np.int64)
    for bit, _code, prev in CHRONIC:
        pr = np.asarray(prev)[band] * (1.5 if bit == 8 else 1.0) * np.where((bit == 8) & (sex == 2), 0.6, 1.0)
        chronic |= np.where(rng.random(n) < pr, bit, 0)
    # the condition a chronic patient is followed for: one of theirs, at random
    bits = np.array([b for b, _, _ in CHRONIC])
    owned = (chronic[:, None] & bits[None, :]) > 0
    score = np.where(owned, rng.random((n, len(bits))), -1.0)
    primary = np.where(chronic > 0, np.argmax(score, axis=1), -1)
    chronic_dx = np.array([know.dx.idx[code] for _, code, _ in CHRONIC])
    primary_dx = np.where(primary >= 0, chronic_dx[np.maximum(primary, 0)], -1)
    mxt = (chronic > 0) & (rng.random(n) < 0.6)  # certified for 门诊慢特病

    mort = np.array([m for _, m in MORTALITY])[np.searchsorted(np.array([a for a, _ in MORTALITY]), age0, side="right") - 1]
    dies = rng.random(n) < mort
    death = np.where(dies, rng.integers(0, DAYS, n), NO_DEATH).astype(np.int64)

    rows_c = np.full(n, c, dtype=np.int64)
    s = region.samplers
    home_village = s["village"].sample(rows_c, rng)
    home_township = s["township"].sample(rows_c, rng)
    home_pharmacy = s["pharmacy"].sample(rows_c, rng)
    county_hosp = s["county"].sample(rows_c * 2, rng)
    chronic_inst = np.where(rng.random(n) < 0.65, home_township, county_hosp)
    chronic_doc = region.doctors(chronic_inst, np.full(n, D["A03"]), rng)

    serial = chunk.serial_base + np.arange(n, dtype=np.int64)
    return Cols(serial=serial, sex=sex, age0=age0, by=by, bmd=bmd, birth_day=birth_day, insutype=insutype,
                chronic=chronic, primary_dx=primary_dx, mxt=mxt, death=death, county=rows_c,
                home_village=home_village, home_township=home_township, home_pharmacy=home_pharmacy,
                chronic_inst=chronic_inst, chronic_doc=chronic_doc,
                birth_ymd=(by * 10000 + bmd).astype(np.int64))


def _sequence(people, region: Region):
    """The 3-digit sequence of each ID number, unique among persons of one county, birth date
    and sex across all the county's chunks: the person's rank in that group in this chunk,
    interleaved with the chunk's position among the county's blocks, through a fixed shuffle."""
    n = len(people)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    county = int(people.county[0])
    blocks = [ch.serial_base for ch in region.chunks if ch.county == county]
    block = blocks.index(int(people.serial[0]))
    order = np.lexsort((people.serial, people.sex, people.birth_ymd))
    key = people.birth_ymd[order] * 2 + people.sex[order]
    starts = np.r_[True, key[1:] != key[:-1]]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    spread = (people.birth_ymd * 7919 + people.sex * 31) % 500  # same within a group: keeps it injective
    x = SEQ_SHUFFLE[(rank * len(blocks) + block + spread) % 500]
    return (x // 5) * 10 + (x % 5) * 2 + (people.sex == 1)


def psn_no(region: Region, county, serial) -> pa.Array:
    """Person numbers: the 4-digit city of the county and a 12-digit serial."""
    city = np.array([region.county_code[c][:4] for c in np.asarray(county)], dtype=object)
    return concat_str(pa.array(city, pa.string()), padded(serial, 12))


def person_tables(people: Cols, region: Region, rng, seq=None):
    """``psn`` and ``insu`` rows (arrow columns) of the chunk's persons.

    A few persons (0.5 %) had a break in their enrolment: two spells that do not overlap (a
    near miss for 重复参保). ``seq``: the ID numbers' sequences when not those of a chunk of
    the region (the supplement's persons, :func:`workbench.synth.supplement.sequence`).
    """
    n = len(people)
    region_code = np.array([int(region.county_code[c]) for c in people.county], dtype=np.int64)
    ids = psn_no(region, people.county, people.serial)
    cert = certnos(region_code, people.birth_ymd, people.sex, _sequence(people, region) if seq is None else seq)
    names = person_names(people.sex, rng)
    adm = pa.array(region.county_code[people.county], pa.string())
    death = people.death
    psn = {
        "psn_no": ids, "certno": cert, "psn_name": names,
        "gend": pa.array(np.where(people.sex == 1, "1", "2"), pa.string()),
        "brdy": dates(people.birth_day),
        "insutype": pa.array(people.insutype.astype(str), pa.string()),
        "insuplc_admdvs": adm,
        "death_date": pa.array(np.where(death < NO_DEATH, EPOCH_DAY + death, 0).astype(np.int32), pa.int32(), mask=death >= NO_DEATH).cast(pa.date32()),
    }
    adult = np.maximum(people.birth_day, people.birth_day + 18 * 365 * (people.insutype == 310))
    begn = np.maximum(people.birth_day + 30 * (people.insutype == 390), np.maximum(adult, -rng.integers(200, 7300, n)))
    begn = np.minimum(begn, -1)
    broke = rng.random(n) < 0.005
    split = -rng.integers(30, 700, n)
    gap = rng.integers(1, 60, n)
    idx = np.concatenate([np.arange(n), np.flatnonzero(broke)])
    # the second spell begins before the year at the latest (a gap reaching into it would leave
    # the person's visits of January settled while uninsured: settlement_outside_enrolment)
    b = np.concatenate([np.where(broke, np.minimum(begn, split - 400), begn), np.minimum(split + gap, -1)[broke]])
    e = np.concatenate([np.where(broke, split, death), death[broke]])
    order = np.argsort(idx, kind="stable")
    idx, b, e = idx[order], b[order], e[order]
    insu = {
        "psn_no": ids.take(pa.array(idx)), "certno": cert.take(pa.array(idx)),
        "insutype": psn["insutype"].take(pa.array(idx)), "insuplc_admdvs": adm.take(pa.array(idx)),
        "begndate": dates(b),
        "enddate": pa.array((EPOCH_DAY + np.where(e < NO_DEATH, e, 0)).astype(np.int32), pa.int32(), mask=e >= NO_DEATH).cast(pa.date32()),
    }
    return psn, insu, {"certno": cert, "psn_no": ids, "names": names, "region_code": region_code}
