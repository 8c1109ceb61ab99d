"""The region: counties, designated institutions, their doctors and pharmacists, inspectors.

A city has a central district with the city's tertiary (三级) hospitals; every county has a
人民医院, a 中医院, most a 妇幼保健院, private hospitals, township health centres (乡镇卫生院, or
社区卫生服务中心 in urban districts), village clinics (村卫生室 / 社区卫生服务站) and retail
pharmacies. Counts and doctor numbers follow the county's insured population, so doctors' daily
volumes stay realistic at every scale.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import yaml

from .knowledge import DATA, LEVEL_RANK, LEVELS
from .names import person_names
from .sampling import RowSampler, categorical
from .scales import Scale

DEPTS = ("A02", "A03", "A04", "A05", "A07", "A10", "A11", "A13", "A20", "A21", "A50", "PH")
D = {d: i for i, d in enumerate(DEPTS)}
PHARM_DEPT = D["PH"]  # pharmacists; written as a null dept_codg
DEPT_MIX = {
    "tertiary": {"A03": .30, "A04": .18, "A05": .08, "A07": .08, "A10": .04, "A11": .04, "A13": .03, "A20": .10, "A21": .05, "A50": .10},
    "county": {"A03": .35, "A04": .20, "A05": .10, "A07": .10, "A10": .04, "A11": .04, "A13": .02, "A20": .08, "A21": .03, "A50": .04},
    "county2": {"A03": .45, "A04": .25, "A05": .10, "A07": .10, "A20": .10},
    "tcm": {"A50": .40, "A03": .25, "A04": .15, "A21": .10, "A07": .05, "A05": .05},
    "mch": {"A05": .60, "A07": .40},
    "private": {"A03": .40, "A04": .30, "A21": .15, "A50": .15},
    "township": {"A02": .50, "A03": .30, "A50": .20},
    "village": {"A02": 1.0},
    "pharmacy": {"PH": 1.0},
}
FALLBACK = ("A03", "A02", "A50", "A04", "A05", "A07")  # where a visit goes when its department is missing
COUNTY_KINDS = ("county", "county2", "tcm", "mch")
COUNTY_WEIGHT = {"county": (0.50, 0.30), "county2": (0.20, 0.10), "tcm": (0.30, 0.10), "mch": (0.0, 0.50)}  # (general, women & children)
TERTIARY_WEIGHT = (0.45, 0.35, 0.20)


@dataclass
class Chunk:
    """A block of persons of one county, generated and written together."""

    index: int
    county: int
    persons: int
    serial_base: int


@dataclass
class Region:
    """Counties, institutions and doctors as arrays (see :func:`build_region`)."""

    county_code: np.ndarray
    county_name: np.ndarray
    county_city: np.ndarray  # index into city_code
    county_urban: np.ndarray
    county_persons: np.ndarray
    city_code: list
    city_name: list
    chunks: list
    # institutions
    inst_code: np.ndarray
    inst_name: np.ndarray
    inst_type: np.ndarray  # '1' medical, '2' pharmacy
    inst_lv: np.ndarray  # level index into LEVELS
    inst_kind: np.ndarray
    inst_county: np.ndarray
    inst_agrmt: np.ndarray
    # doctors
    dr_code: np.ndarray
    dr_name: pa.Array
    dr_inst: np.ndarray
    dr_dept: np.ndarray
    inspectors: pa.Table
    # lookups
    by_kind: dict = field(default_factory=dict)  # (county, kind) -> institution numbers
    samplers: dict = field(default_factory=dict)
    dept_map: np.ndarray = None  # institution x dept -> dept actually used
    doc_start: np.ndarray = None  # CSR over (institution, dept)
    doc_count: np.ndarray = None
    doc_order: np.ndarray = None
    inst_flags: np.ndarray = None  # behaviour bits set by the plan
    dr_flags: np.ndarray = None

    @property
    def inst_rank(self):
        return LEVEL_RANK[self.inst_lv]

    def doctors(self, inst, dept, rng):
        """A doctor of each institution in (the department standing in for) each department."""
        inst = np.asarray(inst, dtype=np.int64)
        d = self.dept_map[inst, np.asarray(dept, dtype=np.int64)]
        key = inst * len(DEPTS) + d
        cnt = self.doc_count[key]
        pos = self.doc_start[key] + np.minimum((rng.random(len(key)) * cnt).astype(np.int64), np.maximum(cnt - 1, 0))
        return np.where(cnt > 0, self.doc_order[np.minimum(pos, len(self.doc_order) - 1)], -1)


def _counties(scale: Scale):
    """Counties of the scale, city by city, each city's central district (listed first) first."""
    with open(DATA / "counties.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["city_code"] in scale.cities]
    if scale.counties is not None:
        rows = [r for r in rows if r["admdvs"] in scale.counties]
    return sorted(rows, key=lambda r: scale.cities.index(r["city_code"]))  # stable: file order within a city


def _central(rows, city):
    return next(r["admdvs"] for r in rows if r["city_code"] == city)


def _split_persons(total, weights):
    w = np.asarray(weights, dtype=np.float64)
    n = np.floor(total * w / w.sum()).astype(np.int64)
    n[: total - n.sum()] += 1
    return n


def build_region(scale: Scale, rng) -> Region:
    """Build the region of ``scale`` (deterministic given ``rng``)."""
    rows = _counties(scale)
    places = yaml.safe_load((DATA / "places.yaml").read_text(encoding="utf-8"))
    tertiary_names = yaml.safe_load((DATA / "cities.yaml").read_text(encoding="utf-8"))
    city_code = list(dict.fromkeys(r["city_code"] for r in rows))
    city_name = [next(r["city_name"] for r in rows if r["city_code"] == c) for c in city_code]
    persons = _split_persons(scale.persons, [float(r["pop"]) for r in rows])
    chunks, serial = [], 0
    for c, n in enumerate(persons):
        blocks = int(np.ceil(n / scale.chunk_persons))
        for b in _split_persons(int(n), np.ones(blocks)):
            chunks.append(Chunk(len(chunks), c, int(b), serial))
            serial += int(b)
    city_persons = {cc: sum(int(persons[i]) for i, r in enumerate(rows) if r["city_code"] == cc) for cc in city_code}

    inst = {k: [] for k in ("code", "name", "type", "lv", "kind", "county")}
    serials = {}

    def add(c, kind, name, lv, typ="1"):
        adm = rows[c]["admdvs"]
        serials[adm] = serials.get(adm, 0) + 1
        prefix = "P" if typ == "2" else "H"
        inst["code"].append(f"{prefix}{adm}{serials[adm]:05d}")
        inst["name"].append(name)
        inst["type"].append(typ)
        inst["lv"].append(LEVELS.index(lv))
        inst["kind"].append(kind)
        inst["county"].append(c)

    towns = rng.permutation(places["towns"])
    villages = places["villages"]
    streets = places["streets"]
    t_used = 0
    for c, r in enumerate(rows):
        p = int(persons[c])
        cname = r["county_name"]
        short = cname[:-1] if len(cname) > 2 else cname
        urban = r["urban"] == "1"
        if r["admdvs"] == _central(rows, r["city_code"]):
            for name in tertiary_names[int(r["city_code"])]:
                add(c, "tertiary", name, "1")
        add(c, "county", f"{cname}人民医院", "1" if float(r["pop"]) >= 100 else "2")
        if p >= 60_000:
            add(c, "county2", f"{cname}第二人民医院", "2")
        add(c, "tcm", f"{short}中医院" if not cname.endswith("区") else f"{cname}中医院", "2")
        if p >= 2_500:
            add(c, "mch", f"{cname}妇幼保健院", "2")
        pool = places["private_hospitals"]
        first = int(rng.integers(len(pool)))
        for k in range(max(1, round(p / 30_000))):
            suffix = "" if k < len(pool) else f"(第{k // len(pool) + 1}院区)"
            add(c, "private", f"{short}{pool[(first + k) % len(pool)]}{suffix}", "2" if rng.random() < 0.5 else "3")
        n_town = max(2, round(p / 9_000))
        for k in range(n_town):
            town = towns[t_used % len(towns)] + ("" if t_used < len(towns) else str(t_used // len(towns) + 1))
            t_used += 1
            add(c, "township", f"{cname}{town}街道社区卫生服务中心" if urban else f"{cname}{town}镇卫生院", "3")
            n_vil = max(1, round(max(3, round(p / 1_500)) / n_town))
            for j in range(n_vil):
                vil = villages[(k * 7 + j) % len(villages)] + ("" if j < len(villages) else str(j // len(villages) + 1))
                add(c, "village", f"{cname}{town}街道{vil}社区卫生服务站" if urban else f"{cname}{town}镇{vil}村卫生室", "9")
        chains = places["pharmacy_chains"]
        for k in range(max(3, round(p / 2_500))):
            chain = chains[int(rng.integers(len(chains)))]
            st = streets[k % len(streets)] + ("" if k < len(streets) else f"{k // len(streets) + 1}")
            add(c, "pharmacy", f"{chain}({short}{st}店)", "9", typ="2")

    n_inst = len(inst["code"])
    inst_kind = np.array(inst["kind"], dtype=object)
    inst_county = np.array(inst["county"], dtype=np.int64)
    region = Region(
        county_code=np.array([r["admdvs"] for r in rows], dtype=object),
        county_name=np.array([r["county_name"] for r in rows], dtype=object),
        county_city=np.array([city_code.index(r["city_code"]) for r in rows], dtype=np.int64),
        county_urban=np.array([r["urban"] == "1" for r in rows]),
        county_persons=persons,
        city_code=city_code, city_name=city_name, chunks=chunks,
        inst_code=np.array(inst["code"], dtype=object), inst_name=np.array(inst["name"], dtype=object),
        inst_type=np.array(inst["type"], dtype=object), inst_lv=np.array(inst["lv"], dtype=np.int64),
        inst_kind=inst_kind, inst_county=inst_county, inst_agrmt=np.array(["active"] * n_inst, dtype=object),
        dr_code=None, dr_name=None, dr_inst=None, dr_dept=None, inspectors=None,
    )
    _doctors(region, rows, city_persons, rng)
    _lookups(region)
    region.inspectors = _inspectors(region, rows, rng)
    region.inst_flags = np.zeros(n_inst, dtype=np.int64)
    region.dr_flags = np.zeros(len(region.dr_code), dtype=np.int64)
    return region


def _doctors(region: Region, rows, city_persons, rng):
    codes, insts, depts = [], [], []
    serials = {}
    for i in range(len(region.inst_code)):
        kind = region.inst_kind[i]
        c = region.inst_county[i]
        p = int(region.county_persons[c])
        n = {
            "tertiary": max(15, round(city_persons[rows[c]["city_code"]] / 5_000)),
            "county": max(8, round(p / 3_000)), "county2": max(5, round(p / 6_000)), "tcm": max(6, round(p / 6_000)),
            "mch": max(4, round(p / 10_000)), "private": max(4, round(p / 20_000)),
            "township": 3 + int(rng.integers(0, 3)) + round(p / 40_000),
            "village": 1 + int(rng.random() < 0.4), "pharmacy": 1 + int(rng.integers(0, 2)),
        }[kind]
        mix = DEPT_MIX[kind]
        names = list(mix)
        d = np.concatenate([[D[names[0]]], np.array([D[x] for x in names])[categorical(list(mix.values()), n - 1, rng)]])
        if kind in ("township",):  # every township centre has a general practitioner and an internist
            d[: min(2, n)] = [D["A02"], D["A03"]][: min(2, n)]
        adm = region.county_code[c]
        for dd in np.sort(d):
            letter = "Y" if dd == PHARM_DEPT else "D"
            serials[(letter, adm)] = serials.get((letter, adm), 0) + 1
            codes.append(f"{letter}{adm}{serials[(letter, adm)]:06d}")
            insts.append(i)
            depts.append(int(dd))
    region.dr_code = np.array(codes, dtype=object)
    region.dr_inst = np.array(insts, dtype=np.int64)
    region.dr_dept = np.array(depts, dtype=np.int64)
    region.dr_name = person_names(np.where(rng.random(len(codes)) < 0.55, 1, 2), rng)


def _lookups(region: Region):
    nd = len(DEPTS)
    n_inst = len(region.inst_code)
    key = region.dr_inst * nd + region.dr_dept
    order = np.argsort(key, kind="stable")
    region.doc_order = order
    region.doc_count = np.bincount(key, minlength=n_inst * nd)
    region.doc_start = np.cumsum(region.doc_count) - region.doc_count
    have = region.doc_count.reshape(n_inst, nd) > 0
    dept_map = np.tile(np.arange(nd), (n_inst, 1))
    for i in range(n_inst):
        present = np.flatnonzero(have[i])
        if len(present) == 0:
            continue
        fb = next((D[f] for f in FALLBACK if have[i, D[f]]), present[0])
        dept_map[i, ~have[i]] = fb
    region.dept_map = dept_map
    n_c = len(region.county_code)
    for c in range(n_c):
        for kind in ("village", "township", "private", "pharmacy", "tertiary") + COUNTY_KINDS:
            region.by_kind[(c, kind)] = np.flatnonzero((region.inst_county == c) & (region.inst_kind == kind))
    # tertiary hospitals serve their whole city
    for c in range(n_c):
        same_city = np.flatnonzero(region.county_city == region.county_city[c])
        region.by_kind[(c, "tertiary")] = np.concatenate([np.flatnonzero((region.inst_county == x) & (region.inst_kind == "tertiary")) for x in same_city])
    s = region.samplers
    county_items, county_w = [], []
    for c in range(n_c):
        for key in (0, 1):
            its = np.concatenate([region.by_kind[(c, k)] for k in COUNTY_KINDS])
            w = np.concatenate([[COUNTY_WEIGHT[k][key]] * len(region.by_kind[(c, k)]) for k in COUNTY_KINDS])
            county_items.append(its)
            county_w.append(w)
    s["county"] = RowSampler(county_items, county_w)
    s["tertiary"] = RowSampler([region.by_kind[(c, "tertiary")] for c in range(n_c)],
                               [np.array(TERTIARY_WEIGHT[: len(region.by_kind[(c, "tertiary")])] + (0.1,) * max(0, len(region.by_kind[(c, "tertiary")]) - 3)) for c in range(n_c)])
    for kind in ("private", "village", "township", "pharmacy"):
        s[kind] = RowSampler([region.by_kind[(c, kind)] for c in range(n_c)], [np.ones(len(region.by_kind[(c, kind)])) for c in range(n_c)])


def _inspectors(region: Region, rows, rng) -> pa.Table:
    ids, units, adms, former = [], [], [], []
    for ci, cc in enumerate(region.city_code):
        adm = f"{cc}00"
        for k in range(int(rng.integers(8, 13))):
            ids.append(f"ZF{adm}{k + 1:03d}")
            units.append(f"{region.city_name[ci]}医疗保障综合执法支队")
            adms.append(adm)
            pool = np.flatnonzero((region.county_city[region.inst_county] == ci) & (region.inst_type == "1") & np.isin(region.inst_kind, ["tertiary", "county", "tcm"]))
            former.append(region.inst_code[rng.choice(pool)] if rng.random() < 0.15 else None)
        for c in np.flatnonzero(region.county_city == ci):
            adm = region.county_code[c]
            for k in range(int(rng.integers(4, 8))):
                ids.append(f"ZF{adm}{k + 1:03d}")
                units.append(f"{region.county_name[c]}医疗保障综合执法大队")
                adms.append(adm)
                pool = np.flatnonzero((region.inst_county == c) & (region.inst_type == "1"))
                former.append(region.inst_code[rng.choice(pool)] if rng.random() < 0.12 else None)
    names = person_names(np.where(rng.random(len(ids)) < 0.6, 1, 2), rng)
    return pa.table({"inspector_id": pa.array(ids), "inspector_name": names, "unit": pa.array(units), "admdvs": pa.array(adms),
                     "former_fixmedins_code": pa.array(former, pa.string())})
