"""One chunk of persons from start to finish: people, visits, plants, fees, settlements, tables."""
from __future__ import annotations

import numpy as np

from .billing import bill
from .cols import Cols
from .output import fee_columns, mdtrt_columns, setl_columns, to_table, visit_ids
from .people import make_people, person_tables
from .settlement import settle
from .visits import background


def finish_visits(visits: Cols, lines: Cols):
    """Drop visits without fee lines, put visits in time order and renumber the lines' ``v``.

    Returns the sorted visits, the lines (sorted by visit, day, time, item) and ``new_of_old``.
    """
    has = np.bincount(lines.v, minlength=len(visits)) > 0
    order = np.lexsort((visits.uid, visits.inst, visits.p, visits.t0, visits.d0))
    order = order[has[order]]
    new_of_old = np.full(len(visits), -1, dtype=np.int64)
    new_of_old[order] = np.arange(len(order))
    visits = visits.take(order)
    lines.v = new_of_old[lines.v]
    lines = lines.take(lines.v >= 0)
    lines = lines.take(np.lexsort((lines.item, lines.sec, lines.day, lines.v)))
    return visits, lines, new_of_old


def run_chunk(chunk, region, know, lookups, planter, rng, acc):
    """Generate one chunk; returns ``{table: arrow table}`` and the chunk's truth rows."""
    people = make_people(chunk, region, know, rng)
    psn, insu, ident = person_tables(people, region, rng)
    visits = background(people, region, know, rng)
    visits.uid = np.arange(len(visits), dtype=np.int64)
    cp = planter.for_chunk(chunk, people, ident, visits, rng) if planter else None
    if cp:
        visits = cp.plant_visits()
    lines = bill(visits, people, region, know, rng)
    if cp:
        lines = cp.plant_fees(visits, lines)
    visits, lines, new_of_old = finish_visits(visits, lines)
    lv = region.inst_lv[visits.inst]
    rows = settle(visits, lines, people.insutype[visits.p], lv, rng)
    ids = visit_ids(chunk.index, len(visits))
    psn_ids = ident["psn_no"]
    if cp:
        psn, insu, psn_ids = cp.extra_persons(psn, insu)
    if acc is not None:
        acc.add(visits, lines)
    tables = {
        "psn": to_table("psn", psn),
        "insu": to_table("insu", insu),
        "mdtrt": to_table("mdtrt", mdtrt_columns(lookups, ids, psn_ids, visits)),
        "setl": to_table("setl", setl_columns(lookups, ids, psn_ids, visits, rows)),
        "fee": to_table("fee", fee_columns(lookups, ids, psn_ids, visits, lines)),
    }
    truth = cp.truth_rows(visits, new_of_old, ids, psn_ids) if cp else []
    return tables, truth

