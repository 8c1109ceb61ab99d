"""The generator's knowledge: catalogue, diagnoses and treatment profiles (``synth/data/``).

Loaded once per run into numpy arrays indexed by item / diagnosis / profile number, so billing
and sampling are array lookups. The catalogue is also what the ``list`` and ``list_incl`` tables
are written from, so the limits that billing respects are exactly the limits the rules read.
"""
from __future__ import annotations

import csv
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from .sampling import RowSampler

DATA = Path(__file__).with_name("data")
LEVELS = ("1", "2", "3", "9")  # index 0..3; 三级, 二级, 一级, 基层/药店
LEVEL_RANK = np.array([3, 2, 1, 0], dtype=np.int8)  # higher = higher level
PRICE_FACTOR = np.array([1.0, 0.9, 0.8, 0.8])  # service prices by level; the cap is the 三级 price
FLAT_PRICE = {"08", "09", "10", "11", "14"}  # consumables, drugs, goods: one price everywhere
DRUG_TYPES = ("09", "10", "11")
SEASON_FACTOR = {"": (1, 1, 1, 1), "resp": (2.0, 1.0, 0.45, 1.0), "gi": (0.7, 1.0, 1.7, 1.1), "summer": (0.3, 1.0, 2.2, 0.8)}
SECTIONS = ("out", "ph", "once", "daily", "disch")


def _read_csv(name):
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _fen(yuan: str) -> int:
    whole, _, frac = yuan.strip().partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


class Catalogue:
    """Billable items: the insurance catalogue (``list``) plus goods that are not in it.

    Attributes are arrays over item numbers: ``code``, ``name``, ``chrgitm``, ``price_fen``
    (items x 4 levels), ``cap_fen`` (-1 = no cap), ``dose`` (default quantity, or a drug's daily
    dose), ``max_daily``, ``per_day``, ``tcm``, ``gend`` (0 = any), ``age_min`` / ``age_max``,
    ``min_rank`` (lowest hospital level rank paid, 0 = any), ``dise`` (prefix tuple), ``listed``.
    """

    def __init__(self):
        rows = _read_csv("items.csv")
        goods = _read_csv("goods.csv")
        n = len(rows) + len(goods)
        self.key = [r["key"] for r in rows] + [g["code"] for g in goods]
        self.idx = {k: i for i, k in enumerate(self.key)}
        self.code = np.array([r["code"] for r in rows] + [g["code"] for g in goods], dtype=object)
        self.name = np.array([r["name"] for r in rows] + [g["name"] for g in goods], dtype=object)
        self.chrgitm = np.array([r["chrgitm"] for r in rows] + ["14"] * len(goods), dtype=object)
        self.chrg = np.array([int(c) for c in self.chrgitm], dtype=np.int64)  # charge type as a number
        self.is_drug = np.isin(self.chrgitm, DRUG_TYPES)
        self.is_test = np.isin(self.chrg, (3, 4))
        self.listed = np.arange(n) < len(rows)
        base = np.array([_fen(r["price"]) for r in rows] + [_fen(g["price"]) for g in goods], dtype=np.int64)
        flat = np.isin(self.chrgitm, list(FLAT_PRICE))
        self.price_fen = np.where(flat[:, None], base[:, None], np.floor(base[:, None] * PRICE_FACTOR[None, :] + 1e-6)).astype(np.int64)
        self.cap_fen = np.array([_fen(r["cap"]) if r["cap"] else -1 for r in rows] + [-1] * len(goods), dtype=np.int64)
        self.dose = np.array([float(r["dose"]) for r in rows] + [1.0] * len(goods))
        self.max_daily = np.array([float(r["max_daily"]) if r["max_daily"] else np.nan for r in rows] + [np.nan] * len(goods))
        self.per_day = np.array([r["per_day"] == "1" for r in rows] + [False] * len(goods))
        self.tcm = np.array([r["tcm"] == "1" for r in rows] + [False] * len(goods))
        self.gend = np.array([int(r["gend"] or 0) for r in rows] + [0] * len(goods), dtype=np.int8)
        self.age_min = np.array([int(r["age_min"]) if r["age_min"] else -1 for r in rows] + [-1] * len(goods), dtype=np.int16)
        self.age_max = np.array([int(r["age_max"]) if r["age_max"] else 999 for r in rows] + [999] * len(goods), dtype=np.int16)
        self.dise = [tuple(r["dise"].split(";")) if r["dise"] else () for r in rows] + [()] * len(goods)
        self.hosp_lv = [r["hosp_lv"] or None for r in rows] + [None] * len(goods)
        self.min_rank = np.array([LEVEL_RANK[LEVELS.index(h)] if h else 0 for h in self.hosp_lv], dtype=np.int8)
        self.tags = [set(filter(None, r["tags"].split(";"))) for r in rows] + [set() for _ in goods]
        self.pair = np.full(n, -1, dtype=np.int64)  # the dearer item an upcoder bills instead
        for i, t in enumerate(self.tags):
            for tag in t:
                if tag.startswith("pair:"):
                    self.pair[i] = self.idx[tag[5:]]
        incl = _read_csv("incl.csv")
        self.incl_parent = np.array([self.idx[r["parent"]] for r in incl], dtype=np.int64)
        self.incl_child = np.array([self.idx[r["child"]] for r in incl], dtype=np.int64)
        self.is_child = np.zeros(n, dtype=bool)
        self.is_child[self.incl_child] = True
        self.goods = np.flatnonzero(~self.listed)

    def __len__(self):
        return len(self.key)

    def items(self, *keys) -> np.ndarray:
        return np.array([self.idx[k] for k in keys], dtype=np.int64)

    def tagged(self, tag) -> np.ndarray:
        return np.array([i for i, t in enumerate(self.tags) if tag in t], dtype=np.int64)

    def children(self, parent: int) -> np.ndarray:
        return self.incl_child[self.incl_parent == parent]

    def list_columns(self) -> dict:
        """Columns of the ``list`` table (listed items only, in catalogue order)."""
        ix = np.flatnonzero(self.listed)
        return {
            "med_list_codg": [self.code[i] for i in ix],
            "list_name": [self.name[i] for i in ix],
            "med_chrgitm_type": [self.chrgitm[i] for i in ix],
            "pric_uplmt_amt": [None if self.cap_fen[i] < 0 else Decimal(int(self.cap_fen[i])).scaleb(-2) for i in ix],
            "lmt_gend": [str(self.gend[i]) if self.gend[i] else None for i in ix],
            "lmt_age_min": [int(self.age_min[i]) if self.age_min[i] >= 0 else None for i in ix],
            "lmt_age_max": [int(self.age_max[i]) if self.age_max[i] < 999 else None for i in ix],
            "lmt_dise": [";".join(self.dise[i]) or None for i in ix],
            "lmt_hosp_lv": [self.hosp_lv[i] for i in ix],
            "max_daily_cnt": [None if np.isnan(self.max_daily[i]) else float(self.max_daily[i]) for i in ix],
            "per_day": [bool(self.per_day[i]) for i in ix],
            "tcm_therapy": [bool(self.tcm[i]) for i in ix],
        }

    def incl_columns(self) -> dict:
        return {"parent_codg": [self.code[i] for i in self.incl_parent], "child_codg": [self.code[i] for i in self.incl_child]}


class Diagnoses:
    """ICD-10 diagnoses with Chinese names, sex and age limits, and weights by life stage."""

    def __init__(self, profiles):
        rows = _read_csv("diagnoses.csv")
        self.code = np.array([r["code"] for r in rows], dtype=object)
        self.name = np.array([r["name"] for r in rows], dtype=object)
        self.idx = {c: i for i, c in enumerate(self.code)}
        self.dept = np.array([r["dept"] for r in rows], dtype=object)
        self.tier = np.array([int(r["tier"]) for r in rows], dtype=np.int8)
        self.sex = np.array([int(r["sex"] or 0) for r in rows], dtype=np.int8)
        self.age_min = np.array([int(r["age_min"] or 0) for r in rows], dtype=np.int16)
        self.age_max = np.array([int(r["age_max"] or 200) for r in rows], dtype=np.int16)
        self.w_out = np.array([[float(r[k]) for k in ("o_child", "o_adult", "o_elder")] for r in rows])
        self.w_in = np.array([[float(r[k]) for k in ("i_child", "i_adult", "i_elder")] for r in rows])
        self.w_ph = np.array([float(r["ph"]) for r in rows])
        self.season = np.array([SEASON_FACTOR[r["season"]] for r in rows])  # diag x 4
        self.profile = np.array([profiles.idx[r["profile"]] for r in rows], dtype=np.int64)
        self.los = np.array([float(r["los"]) for r in rows])
        self.category = np.array([c.replace(".", "")[:3] for c in self.code], dtype=object)

    def __len__(self):
        return len(self.code)

    def allowed(self, age, sex):
        """Boolean (visits x diagnoses): possible for a person of this age and sex (1/2)."""
        age = np.asarray(age)[:, None]
        sex = np.asarray(sex)[:, None]
        return (self.age_min[None, :] <= age) & (age <= self.age_max[None, :]) & ((self.sex[None, :] == 0) | (self.sex[None, :] == sex))

    def sampler(self, kind: str) -> RowSampler:
        """Sampler over rows ``key(age, sex, season)`` for ``kind`` ``out``, ``in`` or ``ph``."""
        ages = np.arange(101)
        stage = np.where(ages < 15, 0, np.where(ages < 60, 1, 2))
        rows = []
        for a in ages:
            for s in (1, 2):
                ok = self.allowed([a], [s])[0]
                for season in range(4):
                    if kind == "out":
                        w = self.w_out[:, stage[a]]
                    elif kind == "in":
                        w = self.w_in[:, stage[a]]
                    else:
                        w = self.w_ph * (self.w_out[:, stage[a]] > 0)
                    rows.append(w * self.season[:, season] * ok)
        return RowSampler.from_matrix(np.array(rows))

    @staticmethod
    def key(age, sex, season):
        """Row of :meth:`sampler` for these visits."""
        return (np.minimum(np.asarray(age, dtype=np.int64), 100) * 2 + (np.asarray(sex) - 1)) * 4 + np.asarray(season)

    def indication_ok(self, cat: Catalogue) -> np.ndarray:
        """Boolean (items x diagnoses): the item's indication limit (lmt_dise) allows the diagnosis."""
        ok = np.ones((len(cat), len(self)), dtype=bool)
        for i, prefixes in enumerate(cat.dise):
            if prefixes:
                ok[i] = [c.startswith(prefixes) for c in self.code]
        return ok


class Profiles:
    """Treatment profiles (``profiles.yaml``) compiled to flat group / alternative / item tables.

    For section ``s``: ``start[s][p]``, ``count[s][p]`` give profile ``p``'s groups; a group has a
    probability ``prob``, alternatives ``alt_off``/``alt_cnt``; an alternative is a bundle of items
    ``bundle_off``/``bundle_cnt`` into ``bundle_item``.
    """

    def __init__(self, cat: Catalogue):
        spec = yaml.safe_load((DATA / "profiles.yaml").read_text(encoding="utf-8"))
        self.names = list(spec)
        self.idx = {n: i for i, n in enumerate(self.names)}
        self.general = self.idx["general"]
        self.tables = {}
        for s in SECTIONS:
            groups = []
            for p in self.names:
                sec = spec[p].get(s)
                if s == "ph" and sec is None:  # pharmacies sell the drugs of the outpatient section
                    sec = [g for g in spec[p].get("out", []) if all(cat.is_drug[cat.idx[k]] for a in g.split()[1].split("|") for k in a.split("+"))]
                groups.append(sec or [])
            self.tables[s] = self._compile(groups, cat)

    @staticmethod
    def _compile(groups, cat):
        start, count, prob, alt_off, alt_cnt, b_off, b_cnt, b_item = [], [], [], [], [], [], [], []
        for gl in groups:
            start.append(len(prob))
            count.append(len(gl))
            for g in gl:
                p, alts = g.split()
                prob.append(float(p))
                alts = alts.split("|")
                alt_off.append(len(b_off))
                alt_cnt.append(len(alts))
                for a in alts:
                    keys = a.split("+")
                    b_off.append(len(b_item))
                    b_cnt.append(len(keys))
                    b_item.extend(cat.idx[k] for k in keys)
        arr = lambda x, t=np.int64: np.array(x, dtype=t)  # noqa: E731
        return {"start": arr(start), "count": arr(count), "prob": arr(prob, np.float64), "alt_off": arr(alt_off),
                "alt_cnt": arr(alt_cnt), "bundle_off": arr(b_off), "bundle_cnt": arr(b_cnt), "bundle_item": arr(b_item)}

    def expand(self, section, profile, rng):
        """Draw the groups of each visit's profile.

        Returns ``(row, group, item)``: the visit row (position in ``profile``), the global group
        number (a bundle's items share it) and the item, for every billed item.
        """
        t = self.tables[section]
        profile = np.asarray(profile, dtype=np.int64)
        cnt = t["count"][profile]
        row = np.repeat(np.arange(len(profile)), cnt)
        from .sampling import within

        grp = t["start"][profile][row] + within(cnt)
        keep = rng.random(len(grp)) < t["prob"][grp]
        row, grp = row[keep], grp[keep]
        alt = t["alt_off"][grp] + np.minimum((rng.random(len(grp)) * t["alt_cnt"][grp]).astype(np.int64), t["alt_cnt"][grp] - 1)
        bc = t["bundle_cnt"][alt]
        row, grp = np.repeat(row, bc), np.repeat(grp, bc)
        item = t["bundle_item"][np.repeat(t["bundle_off"][alt], bc) + within(bc)]
        return row, grp, item


class Knowledge:
    """Catalogue, profiles and diagnoses together, with the precomputed lookups billing needs."""

    def __init__(self):
        self.cat = Catalogue()
        self.profiles = Profiles(self.cat)
        self.dx = Diagnoses(self.profiles)
        self.indication_ok = self.dx.indication_ok(self.cat)
        self.samplers = {k: self.dx.sampler(k) for k in ("out", "in", "ph")}


@lru_cache(maxsize=1)
def knowledge() -> Knowledge:
    """The knowledge of this package version (read once per process)."""
    return Knowledge()
