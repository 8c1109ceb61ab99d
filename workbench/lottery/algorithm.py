"""双随机、一公开: a stratified inspection lottery anyone can re-run from its published seed.

The algorithm (``docs/lottery.md`` states it for people; ``workbench/lottery/verify_draw.py`` checks a
draw with the standard library only):

1. Candidates are the institutions of ``medins`` whose ``agrmt_stas`` is ``active`` or null (or
   the column is absent). Each falls in a *stratum*: the values of the strata columns
   (default ``admdvs,fixmedins_type``) plus its credit class (institutions without one count as
   ``B``), nulls written as ``""``. Strata are ordered by their tuple of values.
2. Rank of an id: ``SHA-256(UTF-8(seed + "|" + id))`` as lower-case hex; candidates are ordered
   by (rank, id) ascending.
3. ``N`` institutions are allocated to strata by :func:`allocate` (largest remainder on integer
   weights ``candidates × ratio in basis points``), and each stratum takes its first ``k``.
4. ``M`` inspectors are the first ``M`` of the ``inspector`` pool in the same order.
5. Teams: :func:`assign_teams`.

A draw is a :class:`~workbench.lottery.drawing.Draw`, a JSON record written byte-deterministically;
:func:`~workbench.lottery.verification.verify` re-makes it from the record's inputs and the data
folder and names every difference. This module is the algorithm itself, pure: no data folder.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import math
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from ..errors import LotteryError


ALGORITHM = "workbench-lottery/1"
CREDIT = "credit"  # the pseudo-column of a stratum holding the credit class
DEFAULT_STRATA = "admdvs,fixmedins_type"
DEFAULT_RATIOS = "A=5%,B=10%,C=20%,D=40%"
DEFAULT_CLASS = "B"
USED_TABLES = ("medins", "inspector")  # the tables a draw reads


# --------------------------------------------------------------------------- the algorithm
def rank(seed: str, ident: str) -> str:
    """``SHA-256(UTF-8(seed + "|" + ident))`` as 64 lower-case hex digits."""
    return hashlib.sha256((seed + "|" + ident).encode("utf-8")).hexdigest()


def order_ids(seed: str, ids) -> list:
    """Ids ordered by (:func:`rank`, id) ascending: the draw order."""
    return sorted(ids, key=lambda x: (rank(seed, x), x))


def list_fingerprint(ids) -> str:
    """SHA-256 of the ids sorted ascending and joined by ``"\\n"`` (UTF-8, no final newline)."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def allocate(sizes, weights, total: int) -> list:
    """Split ``total`` draws across strata in proportion to integer ``weights``.

    Largest remainder: stratum ``i`` gets ``floor(left × w_i / W)``; the ``left − Σ floors``
    draws still unassigned go one each to the strata with the largest remainders
    ``left × w_i mod W`` (ties: the earlier stratum). Strata given more than their ``sizes``
    are fixed at their size and the rest is re-allocated among the others, until none is over.
    Strata of weight 0 get 0.

    Parameters
    ----------
    sizes : list of int
        Candidates per stratum.
    weights : list of int
        Weight per stratum (``size × ratio in basis points`` in a draw).
    total : int
        Institutions to draw.

    Returns
    -------
    list of int
        Draws per stratum, summing to ``total``.
    """
    capacity = sum(s for s, w in zip(sizes, weights) if w > 0)
    if total < 0 or total > capacity:
        raise LotteryError(f"cannot draw {total} institutions: the strata with a non-zero ratio hold {capacity} candidates")
    fixed, k = {}, {}
    while True:
        open_ = [i for i in range(len(sizes)) if i not in fixed and weights[i] > 0]
        left = total - sum(fixed.values())
        big_w = sum(weights[i] for i in open_)
        if not open_:
            break
        k = {i: left * weights[i] // big_w for i in open_}
        by_remainder = sorted(open_, key=lambda i: (-(left * weights[i] % big_w), i))
        for i in by_remainder[: left - sum(k.values())]:
            k[i] += 1
        over = {i: sizes[i] for i in open_ if k[i] > sizes[i]}
        if not over:
            break
        fixed.update(over)
    return [fixed.get(i, k.get(i, 0)) for i in range(len(sizes))]


def conflicts(inspector: dict, code: str, admdvs, exclude_own_county: bool) -> bool:
    """True when ``inspector`` may not inspect institution ``code`` in county ``admdvs``."""
    if inspector.get("former_fixmedins_code") == code:
        return True
    return bool(exclude_own_county and admdvs and inspector.get("admdvs") == admdvs)


def assign_teams(institutions, inspectors, team_size: int, exclude_own_county: bool) -> list:
    """Give each drawn institution a team of drawn inspectors without a conflict.

    Institutions are taken in draw order; each gets the ``team_size`` inspectors without a
    conflict (:func:`conflicts`) that have the fewest assignments so far, ties broken by
    inspector draw order; the team lists them in that order.

    Parameters
    ----------
    institutions : list of (code, admdvs)
        Drawn institutions in draw order.
    inspectors : list of dict
        Drawn inspectors in draw order (``inspector_id``, ``admdvs``, ``former_fixmedins_code``).

    Returns
    -------
    list of list of str
        Inspector ids per institution.
    """
    load = {i["inspector_id"]: 0 for i in inspectors}
    teams = []
    for code, admdvs in institutions:
        free = [i for i in inspectors if not conflicts(i, code, admdvs, exclude_own_county)]
        if len(free) < team_size:
            rule = "former unit" + (" or own county" if exclude_own_county else "")
            raise LotteryError(
                f"no conflict-free team for institution {code} (county {admdvs}): only {len(free)} of the "
                f"{len(inspectors)} drawn inspectors have no conflict ({rule}) and a team needs {team_size}; "
                "draw more inspectors (--inspectors) or a smaller team (--team-size)")
        team = [i["inspector_id"] for i in sorted(free, key=lambda i: load[i["inspector_id"]])[:team_size]]
        for x in team:
            load[x] += 1
        teams.append(team)
    return teams


# --------------------------------------------------------------------------- parameters
def parse_strata(spec) -> list:
    """Strata columns from ``"admdvs,fixmedins_type"`` (or a list); ``credit`` is appended if absent.

    ``""`` or ``"none"`` means no column: strata by credit class only.
    """
    if spec is None:
        spec = DEFAULT_STRATA
    if isinstance(spec, str):
        spec = [] if spec.strip().lower() in ("", "none") else [s.strip() for s in spec.split(",")]
    cols = list(spec)
    if any(not c for c in cols) or len(set(cols)) != len(cols):
        raise LotteryError(f"strata {','.join(cols)!r}: give distinct medins column names separated by commas")
    return cols if CREDIT in cols else cols + [CREDIT]


def parse_ratios(spec) -> dict:
    """Ratios per credit class in basis points: ``"A=5%,B=10%"`` or ``"A=0.05,..."`` or a dict."""
    if spec is None:
        spec = DEFAULT_RATIOS
    items = spec.items() if isinstance(spec, dict) else [p.split("=", 1) if "=" in p else (p, "") for p in spec.split(",")]
    out = {}
    for cls, val in items:
        cls, text = str(cls).strip(), str(val).strip()
        try:
            ratio = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
        except InvalidOperation:
            raise LotteryError(f"ratio of class {cls!r}: {text!r} is not a number (write e.g. A=5% or A=0.05)") from None
        bp = ratio * 10000
        if not cls or bp != bp.to_integral_value() or not 0 <= bp <= 10000:
            raise LotteryError(f"ratio {cls}={text}: a class name and a ratio between 0 and 100% in whole basis points (0.01%)")
        out[cls] = int(bp)
    return dict(sorted(out.items()))


def parse_date(value) -> str:
    """``YYYY-MM-DD`` of a date, a string, or today when None."""
    if value is None:
        return _dt.date.today().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    try:
        return _dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise LotteryError(f"draw date {value!r}: write it as YYYY-MM-DD") from None


def seed_from_bytes(data: bytes) -> str:
    """The seed held in an uploaded text file: UTF-8 (a BOM is dropped), surrounding blanks stripped."""
    seed = data.decode("utf-8-sig").strip()
    if not seed:
        raise LotteryError("the seed file is empty")
    return seed


def credit_classes(credit) -> dict:
    """``{fixmedins_code: class}`` from a dict, a frame or CSV file (``fixmedins_code``,
    ``credit_class``), or anything with a ``classes()`` method (a credit report)."""
    if credit is None:
        return {}
    if hasattr(credit, "classes"):
        return dict(credit.classes())
    if isinstance(credit, dict):
        return {str(k): str(v) for k, v in credit.items()}
    frame = credit
    if isinstance(credit, (str, Path)):
        path = Path(credit)
        if not path.is_file():
            raise LotteryError(f"{path}: no such credit file")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    col = "credit_class" if "credit_class" in frame.columns else "class"
    if "fixmedins_code" not in frame.columns or col not in frame.columns:
        raise LotteryError(f"credit classes need columns fixmedins_code and credit_class; found {', '.join(map(str, frame.columns))}")
    return {str(c): str(v) for c, v in zip(frame["fixmedins_code"], frame[col]) if str(v)}


def compose(rows, pool, seed, institutions, inspectors, *, strata=None, ratios=None, credit=None, team_size=2,
            exclude_own_county=False, date=None, tables=None) -> dict:
    """The draw record from candidate rows and the inspector pool (pure: no data folder).

    Parameters
    ----------
    rows : list of dict
        Candidate institutions: ``fixmedins_code``, ``admdvs`` and the strata columns.
    pool : list of dict
        Inspectors: ``inspector_id``, ``unit``, ``admdvs``, ``former_fixmedins_code``.
    credit : dict, optional
        ``{fixmedins_code: class}``.
    tables : dict, optional
        Data fingerprints to record.

    Other parameters are those of :func:`draw`.
    """
    seed = str(seed)
    if not seed.strip():
        raise LotteryError("the seed is empty")
    if int(team_size) < 1:
        raise LotteryError(f"team size {team_size}: at least 1")
    if int(inspectors) < int(team_size):
        raise LotteryError(f"{inspectors} inspectors cannot make a team of {team_size}")
    strata, bp, day, classes = parse_strata(strata), parse_ratios(ratios), parse_date(date), credit or {}
    if DEFAULT_CLASS not in bp:
        raise LotteryError(f"ratios must give class {DEFAULT_CLASS} (institutions without a credit class count as {DEFAULT_CLASS})")
    used_credit, cells = {}, {}
    for r in rows:
        cls = classes.get(r["fixmedins_code"], DEFAULT_CLASS)
        if cls not in bp:
            raise LotteryError(f"institution {r['fixmedins_code']}: credit class {cls!r} has no ratio (classes: {', '.join(bp)})")
        if r["fixmedins_code"] in classes:
            used_credit[r["fixmedins_code"]] = cls
        key = tuple(cls if c == CREDIT else (r[c] or "") for c in strata)
        cells.setdefault(key, []).append(r["fixmedins_code"])
    county = {r["fixmedins_code"]: r["admdvs"] for r in rows}
    keys = sorted(cells)
    weights = [len(cells[k]) * bp[k[strata.index(CREDIT)]] for k in keys]
    ks = allocate([len(cells[k]) for k in keys], weights, institutions)
    cell_records = []
    for key, weight, k in zip(keys, weights, ks):
        ids = sorted(cells[key])
        cell_records.append({"stratum": "/".join(key), "key": dict(zip(strata, key)), "candidates": ids,
                             "candidates_sha256": list_fingerprint(ids), "weight": weight, "k": k,
                             "drawn": order_ids(seed, ids)[:k]})
    by_id = {i["inspector_id"]: i for i in pool}
    pool_ids = sorted(by_id)
    if inspectors > len(pool_ids):
        raise LotteryError(f"cannot draw {inspectors} inspectors: the inspector pool holds {len(pool_ids)}")
    drawn_insp = [{k: by_id[i].get(k) for k in ("inspector_id", "unit", "admdvs", "former_fixmedins_code")}
                  for i in order_ids(seed, pool_ids)[:inspectors]]
    order = [(x, county[x]) for c in cell_records for x in c["drawn"]]
    teams = assign_teams(order, drawn_insp, team_size, exclude_own_county)
    width = max(2, len(str(len(order))))
    return {
        "algorithm": ALGORITHM, "seed": seed, "date": day, "strata": strata, "ratios_bp": bp,
        "default_class": DEFAULT_CLASS, "credit": dict(sorted(used_credit.items())),
        "eligibility": "medins.agrmt_stas = 'active' or null", "n_institutions": institutions,
        "n_inspectors": inspectors, "team_size": team_size, "exclude_former_unit": True,
        "exclude_own_county": bool(exclude_own_county), "data_tables": tables or {}, "cells": cell_records,
        "inspector_pool": pool_ids, "inspector_pool_sha256": list_fingerprint(pool_ids),
        "drawn_inspectors": drawn_insp,
        "teams": [{"team": f"T{n:0{width}d}", "fixmedins_code": code, "admdvs": adm, "inspectors": t}
                  for n, ((code, adm), t) in enumerate(zip(order, teams), start=1)],
    }



# --------------------------------------------------------------------------- 飞行检查 shortlist
def flying_shortlist(providers, n: int, seed) -> pd.DataFrame:
    """A 飞行检查 (flying inspection) shortlist of ``n`` institutions drawn with weight ``priority``.

    Separate from the 双随机 draw (whose algorithm above is unchanged): an institution's chance
    grows with the fund money an inspection is expected to put right (``workbench providers``),
    yet every institution with a positive priority can be drawn. Weighted sampling without
    replacement (Efraimidis & Spirakis): each institution gets ``u = (int(rank(seed, code)[:16],
    16) + 0.5) / 2**64`` (the lottery's SHA-256 rank, so anyone can re-draw it from the seed) and
    key ``ln(u) / priority``; the ``n`` largest keys are the shortlist.

    Parameters
    ----------
    providers : ProviderProfiles or DataFrame
        A ``profile_providers`` result or a frame with ``fixmedins_code`` and ``priority``
        (e.g. ``providers.csv`` read back).
    n : int
        Size of the shortlist (fewer when fewer institutions have a positive priority).
    seed : str or int
        Published seed.

    Returns
    -------
    DataFrame
        ``order`` (1 = drawn first), ``fixmedins_code``, ``priority``, ``key``.
    """
    frame = getattr(providers, "institutions", providers)
    if not isinstance(frame, pd.DataFrame) or not {"fixmedins_code", "priority"} <= set(frame.columns):
        raise LotteryError("flying shortlist: need a providers result or a frame with fixmedins_code and priority")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise LotteryError(f"flying shortlist: n must be a whole number of at least 1, got {n!r}")
    seed = str(seed)
    rows = []
    for code, prio in zip(frame["fixmedins_code"].astype(str), pd.to_numeric(frame["priority"], errors="coerce")):
        if prio == prio and prio > 0:
            u = (int(rank(seed, code)[:16], 16) + 0.5) / 2.0 ** 64
            rows.append((math.log(u) / float(prio), code, float(prio)))
    rows.sort(key=lambda r: (-r[0], r[1]))
    out = pd.DataFrame([(i + 1, c, p, k) for i, (k, c, p) in enumerate(rows[:n])], columns=["order", "fixmedins_code", "priority", "key"])
    return out
