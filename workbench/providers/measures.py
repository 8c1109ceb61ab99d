"""The measures an auditor compares providers on: names, labels, units, and which drive the score.

A measure is data (:class:`Measure`): its column name in the profile, a Chinese and an English
label, a kind (how its value is written), the direction in which it is suspicious, whether it is
*scored* (drives the risk score) and the tables it needs. Volume (visits, persons, money totals)
is shown but never scored, so the score is size-neutral; case mix (elderly and chronic shares)
is shown as context but not scored either: a geriatric hospital is not suspicious for being one.

The chronic-disease list is data too: ``data/chronic.csv`` (ICD-10 and ICD-9 3-character ranges).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")

HIGH, LOW, EITHER = 1, -1, 0
# (absolute, relative to |peer median|) floors of the robust scale, by kind of measure:
# 2 percentage points for shares, 5 % of the median for money and ratios, half a day for days.
KIND_FLOORS = {"share": (0.02, 0.0), "money": (0.0, 0.05), "ratio": (0.0, 0.05), "days": (0.5, 0.05), "count": (0.5, 0.05)}


@dataclass(frozen=True)
class Measure:
    """One column of a provider profile.

    Attributes
    ----------
    name : str
        Column name in the profile.
    zh, en : str
        Labels for people (reasons, charts).
    kind : str
        ``count``, ``money`` (yuan), ``share`` (0–1), ``days``, ``ratio`` (a rate or index).
    direction : int
        ``HIGH`` (+1): unusually high is suspicious; ``LOW`` (-1): unusually low is; ``EITHER`` (0).
    scored : bool
        Whether the measure drives the risk score.
    needs : tuple of str
        Tables (or ``table.column``) it needs; without them it is null and not scored.
    floor : (float, float), optional
        ``(absolute, relative)``: the robust scale is never below ``max(absolute, relative x
        |peer median|)``, so a difference too small to matter (0.3 percentage points of drug
        share among near-identical peers) is never called unusual. Default by kind
        (:data:`KIND_FLOORS`).
    """

    name: str
    zh: str
    en: str
    kind: str
    direction: int = HIGH
    scored: bool = True
    needs: tuple = ()
    floor: tuple = None

    @property
    def scale_floor(self) -> tuple:
        return self.floor if self.floor is not None else KIND_FLOORS[self.kind]


MEASURES = (
    Measure("visits", "就诊人次", "visits", "count", scored=False),
    Measure("persons", "就诊人数", "persons", "count", scored=False),
    Measure("inpatient_stays", "住院人次", "inpatient stays", "count", scored=False),
    Measure("doctors", "接诊医师数", "doctors seen", "count", scored=False),
    Measure("medfee_total", "医疗费用总额", "total bill", "money", scored=False, needs=("setl",)),
    Measure("hifp_total", "统筹基金支出", "fund paid", "money", scored=False, needs=("setl",)),
    Measure("cost_per_visit", "次均费用", "cost per visit", "money", needs=("setl",)),
    Measure("cost_per_person", "人均费用", "cost per person", "money", needs=("setl",)),
    Measure("cost_index", "病种调整费用指数", "case-mix cost index", "ratio", needs=("setl",)),
    Measure("fund_share", "基金支付占比", "fund share", "share", needs=("setl",)),
    Measure("drug_share", "药占比", "drug share", "share", needs=("fee",)),
    Measure("test_share", "检查检验占比", "test share", "share", needs=("fee",)),
    Measure("consumable_share", "耗材占比", "consumable share", "share", needs=("fee",)),
    Measure("treatment_share", "治疗费占比", "treatment share", "share", needs=("fee",)),
    Measure("tcm_therapy_share", "中医治疗项目门诊占比", "TCM therapy share of outpatient visits", "share",
            needs=("fee", "list.tcm_therapy")),
    Measure("exam_fee_per_visit", "次均诊查费", "consultation fee per outpatient visit", "money", needs=("fee",)),
    Measure("bed_nursing_per_day", "床日床位护理费", "bed and nursing fees per bed-day", "money", needs=("fee",)),
    Measure("inpatient_share", "住院人次占比", "inpatient share of visits", "share"),
    Measure("admission_index", "病种调整入院指数", "case-mix admission index", "ratio"),
    Measure("short_stay_share", "短期住院占比", "short-stay share", "share"),
    Measure("minor_admission_share", "短期轻症住院占比", "short minor-diagnosis stay share", "share"),
    Measure("los_mean", "平均住院日", "mean length of stay", "days", direction=EITHER),
    Measure("los_index", "病种调整住院日指数", "case-mix length-of-stay index", "ratio"),
    Measure("readmission_rate", "15日内再入院率", "readmission rate", "share"),
    Measure("claims_per_person", "人次人头比", "visits per person", "ratio", scored=False),
    Measure("repeat_person_share", "多次住院患者占比", "share of inpatients admitted twice or more", "share", scored=False),
    Measure("visits_per_doctor_day", "医师日均接诊人次", "visits per doctor per day", "ratio"),
    Measure("patients_per_doctor", "医师人均患者数", "patients per doctor", "ratio"),
    Measure("claims_per_doctor", "医师人均接诊人次", "visits per doctor", "ratio", scored=False),
    Measure("top_doctor_share", "首位医师接诊占比", "share of visits by the busiest doctor", "share", scored=False),
    Measure("weekend_share", "周末就诊占比", "weekend share", "share"),
    Measure("night_share", "夜间就诊占比", "night share", "share"),
    Measure("dise_categories", "诊断类目数", "diagnosis categories", "count", scored=False),
    Measure("dise_per_100", "每百人次诊断类目数", "diagnosis categories per 100 visits", "ratio", scored=False),
    Measure("dise_entropy", "诊断多样性（熵）", "diagnosis diversity (entropy, bits)", "ratio", direction=EITHER,
            floor=(0.1, 0.05)),
    Measure("elderly_share", "老年患者就诊占比", "elderly share", "share", scored=False, needs=("psn",)),
    Measure("chronic_share", "慢病就诊占比", "chronic share", "share", scored=False),
    Measure("repeat_interval_median", "复诊间隔中位数", "median days between a person's visits", "days",
            direction=LOW),
    Measure("findings_per_1000", "千人次规则线索数", "findings per 1,000 visits", "ratio", needs=("findings",),
            floor=(1.0, 0.05)),
    Measure("fund_at_risk_share", "涉及基金占比", "fund at risk share", "share", needs=("findings",)),
)
BY_NAME = {m.name: m for m in MEASURES}
SCORED = tuple(m.name for m in MEASURES if m.scored)


def measure(name: str) -> Measure:
    """The :class:`Measure` called ``name`` (a ``KeyError`` names it when unknown)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown provider measure {name!r}; known: {', '.join(BY_NAME)}") from None


def format_value(name: str, value) -> str:
    """A measure's value as a person reads it: shares and ratios 2 decimals, days 1, money 2
    decimals with thousands separators, counts whole; a dash for null."""
    if value is None or value != value:
        return "—"
    kind = BY_NAME[name].kind if name in BY_NAME else "ratio"
    if kind == "count":
        return f"{int(round(float(value))):,}"
    if kind == "money":
        return f"{float(value):,.2f}"
    if kind == "days":
        return f"{float(value):.1f}"
    return f"{float(value):.2f}"


def _expand(first: str, last: str) -> list:
    """``I10``..``I15`` -> ``I10, I11, ..., I15``; ``401``..``405`` likewise."""
    m1, m2 = re.fullmatch(r"([A-Z]?)(\d+)", first), re.fullmatch(r"([A-Z]?)(\d+)", last)
    if not m1 or not m2 or m1.group(1) != m2.group(1) or len(m1.group(2)) != len(m2.group(2)):
        raise ValueError(f"chronic.csv: bad category range {first}-{last}")
    width = len(m1.group(2))
    return [f"{m1.group(1)}{n:0{width}d}" for n in range(int(m1.group(2)), int(m2.group(2)) + 1)]


def chronic_categories(path=None) -> list:
    """The 3-character diagnosis categories counted as chronic, sorted (``data/chronic.csv``)."""
    path = Path(path) if path else DATA_DIR / "chronic.csv"
    with open(path, encoding="utf-8") as f:
        cats = {c for row in csv.DictReader(f) for c in _expand(row["first"].strip().upper(), row["last"].strip().upper())}
    return sorted(cats)
