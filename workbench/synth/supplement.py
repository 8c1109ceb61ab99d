"""Scenarios planted after every chunk, in persons of their own (the rules added since 1.0).

The chunks of a seed are never touched: each supplementary scenario draws from its own random
stream (seeded from the seed and the scenario's name), plants its cases in new persons of one
county (serials from :data:`SERIAL0`, chunk numbers from :data:`CHUNK0`, so ``psn_no`` and
``mdtrt_id`` never meet an existing one), and its rows are appended after everything else. A
data folder of an earlier version keeps every row, value and id; it only gains rows.

The supplement's visits are billed as any visit is. Their drugs enter the ledger (``stock``) as
batch rows of their own, appended after the chunks' ledger: bought and sold in the month exactly
as billed, at the billed price, nothing left over (:func:`ledger_rows`), so no stock rule judges
them differently from before and the chunks' ledger rows stay as they were. Supplementary persons live all year (no claim after death) and their ID numbers take
sequence numbers from the top of the layout's range, which the chunks' persons never reach
(:func:`sequence`).
"""
from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .billing import bill
from .chunk import finish_visits
from .output import fee_columns, mdtrt_columns, setl_columns, to_table, visit_ids
from . import plant_cards, plant_drugs, plant_more, plant_services
from .people import NO_DEATH, SEQ_SHUFFLE, make_people, person_tables
from .plan import Case, Plan, _count
from .planter import ChunkPlanter
from .region import Chunk
from .sampling import YEAR, decimal_from_fen
from .settlement import settle
from .stock import Accumulator
from .visits import empty_visits

CHUNK0 = 9000  # chunk numbers of the supplement (mdtrt_id = year + chunk + sequence)
SERIAL0 = 800_000_000_000  # person serials of the supplement (psn_no = city + serial)
# cases per scenario at demo scale (times Scale.case_factor), in planting order; never reorder
# or rename: the name seeds the scenario's random stream
SUPPLEMENT_CASES = {
    "bed_days_over_stay": 10, "near_miss:bed_day_moved": 4,
    "chronic_outpatient_without_diagnosis": 6, "near_miss:chronic_diagnosed_elsewhere": 3,
    "test_without_indication": 10, "near_miss:test_with_indication": 4,
    "upcoded_consultation": 8, "near_miss:senior_fee_at_secondary": 4,
    "nursing_days_over_stay": 8, "near_miss:nursing_day_moved": 4,
    "repeated_consultation_fee": 8, "near_miss:second_visit_same_day": 4,
    "overlapping_prescriptions": 8, "near_miss:early_refill": 4,
    "duplicate_ingredient": 8, "near_miss:sequential_forms": 4,
    "setting_limit": 8, "near_miss:outpatient_infusion": 4,
    "low_threshold_admission": 8, "near_miss:checkup_with_treatment": 4,
    "inpatient_without_treatment": 8, "near_miss:one_test_kept": 4,
    "card_multi_institution_same_day": 8, "near_miss:three_institutions_one_day": 4,
    "settlement_fee_mismatch": 8, "near_miss:settlement_rounding": 4,
    "settlement_outside_enrolment": 8, "near_miss:settled_on_last_day": 4,
    "out_of_area_concentration": 2, "near_miss:few_out_of_area": 1,
    "contraindicated_combination": 8, "near_miss:aspirin_with_ppi": 4,
    "health_check_billed": 6, "near_miss:health_check_self_paid": 3,
    "treatment_course_limit": 8, "near_miss:course_within_limit": 4,
    "rx_drug_without_prescription": 8, "near_miss:rx_with_prescription": 4,
}
# plant functions and persons per case of each scenario, from every planter module
PERSONS_PER_CASE = {**plant_more.PERSONS_PER_CASE, **plant_services.PERSONS_PER_CASE, **plant_drugs.PERSONS_PER_CASE,
                    **plant_cards.PERSONS_PER_CASE}
VISIT_PLANTS = {**plant_more.VISIT_PLANTS, **plant_services.VISIT_PLANTS, **plant_drugs.VISIT_PLANTS, **plant_cards.VISIT_PLANTS}
TABLE_PLANTS = {**plant_cards.TABLE_PLANTS, **plant_services.TABLE_PLANTS}
FEE_PLANTS = {**plant_more.FEE_PLANTS, **plant_services.FEE_PLANTS, **plant_drugs.FEE_PLANTS}


def scenario_rng(seed: int, name: str):
    """The random stream of one supplementary scenario: independent of every other one."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def sequence(people, taken: dict):
    """ID sequence numbers for supplementary persons, from the top of the shuffled range down.

    A chunk's person of rank ``r`` in its (county, birth date, sex) group takes position
    ``r * blocks + block`` of the shuffle; those stay far below 499 at every scale (a group holds a
    handful of persons), so counting down from 499 per group never meets them. ``taken`` counts
    the supplement's own persons per group across scenarios.
    """
    seq = np.empty(len(people), dtype=np.int64)
    spread = (people.birth_ymd * 7919 + people.sex * 31) % 500
    for j in range(len(people)):
        key = (int(people.county[j]), int(people.birth_ymd[j]), int(people.sex[j]))
        k = taken.get(key, 0)
        taken[key] = k + 1
        x = SEQ_SHUFFLE[(499 - k + int(spread[j])) % 500]
        seq[j] = (x // 5) * 10 + (x % 5) * 2 + (people.sex[j] == 1)
    return seq


def ledger_rows(acc, region, know) -> dict:
    """Batch rows of the supplement's drugs: one per institution, drug and month it billed
    any, bought and sold exactly that quantity at the billed price (inv_begn = inv_end = 0)."""
    nd = len(acc.drugs)
    cells = np.argwhere(acc.qty.reshape(acc.n_inst, nd, 12) > 0)
    inst, item, month = cells[:, 0], acc.drugs[cells[:, 1]], cells[:, 2]
    qty = acc.qty.reshape(acc.n_inst, nd, 12)[cells[:, 0], cells[:, 1], cells[:, 2]]
    zero = pa.array(np.zeros(len(cells)), pa.float64())
    return {
        "fixmedins_code": pa.array(list(region.inst_code), pa.string()).take(pa.array(inst)),
        "med_list_codg": pa.array(list(know.cat.code), pa.string()).take(pa.array(item)),
        "period": pa.array([f"{YEAR}-{m + 1:02d}" for m in month], pa.string()),
        "inv_begn": zero, "purc_cnt": pa.array(qty, pa.float64()),
        "purc_pric": decimal_from_fen(know.cat.price_fen[item, 0].astype(np.int64)),
        "sale_cnt": pa.array(qty, pa.float64()), "inv_end": zero,
    }


def plant_supplement(scale, seed, region, know, lookups, background=None):
    """Plant every supplementary scenario; returns ``[(table name, arrow table), ...]`` in
    writing order (the ledger's batch rows under ``stock``, to append after the chunks' ledger)
    and the truth rows. ``background``: the chunks' :class:`~workbench.synth.stock.Accumulator`
    (each institution's own billed money), for plants sized against an institution's business."""
    tables, truth, taken = [], [], {}
    ledger = Accumulator(region, know)
    w = np.asarray(region.county_persons, dtype=np.float64)
    for k, scenario in enumerate(SUPPLEMENT_CASES):
        rng = scenario_rng(seed, scenario)
        n = _count(SUPPLEMENT_CASES[scenario], scale.case_factor)
        # persons to choose from; only those a case uses are written
        county = int(rng.choice(len(w), p=w / w.sum()))
        chunk = Chunk(CHUNK0 + k, county, PERSONS_PER_CASE.get(scenario.split(":")[-1], 3) * n, SERIAL0 + k * 10_000_000)
        out, rows = _run(chunk, scenario, n, region, know, lookups, rng, taken, ledger, background)
        tables += out
        truth += rows
    tables.append(("stock", to_table("stock", ledger_rows(ledger, region, know))))
    return tables, truth


def _run(chunk, scenario, n, region, know, lookups, rng, taken, ledger, background=None):
    people = make_people(chunk, region, know, rng)
    people.death[:] = NO_DEATH
    psn, insu, ident = person_tables(people, region, rng, seq=sequence(people, taken))
    prefix = "near-" + scenario.split(":", 1)[1] if scenario.startswith("near_miss:") else scenario
    cases = [Case(f"{prefix}-{j + 1:03d}", scenario, chunk.index) for j in range(n)]
    plan = Plan(cases=cases, truth=[], stock={}, behaviour_insts={})
    visits = empty_visits()
    cp = ChunkPlanter(plan, chunk, people, ident, visits, region, know, rng)
    cp.background = background
    visits = cp.plant_visits(VISIT_PLANTS)
    lines = bill(visits, people, region, know, rng)
    lines = cp.plant_fees(visits, lines, FEE_PLANTS)
    visits, lines, new_of_old = finish_visits(visits, lines)
    ledger.add(visits, lines)
    rows = settle(visits, lines, people.insutype[visits.p], region.inst_lv[visits.inst], rng)
    ids = visit_ids(chunk.index, len(visits))
    psn_ids = ident["psn_no"]
    # only the persons the cases used: the others would be insured persons without a claim
    kept = pa.array(np.isin(np.arange(len(people)), visits.p))
    psn = {k: col.filter(kept) for k, col in psn.items()}
    insu = {k: col.filter(pc.is_in(insu["psn_no"], value_set=psn["psn_no"])) for k, col in insu.items()}
    out = [("psn", to_table("psn", psn)), ("insu", to_table("insu", insu)),
           ("mdtrt", to_table("mdtrt", mdtrt_columns(lookups, ids, psn_ids, visits))),
           ("setl", to_table("setl", setl_columns(lookups, ids, psn_ids, visits, rows))),
           ("fee", to_table("fee", fee_columns(lookups, ids, psn_ids, visits, lines)))]
    table_plant = TABLE_PLANTS.get(scenario)
    if table_plant is not None:  # settlements, spells or insurance places a case changes
        tables = dict(out)
        for i, case in enumerate(cases):
            tables = table_plant(cp, i, case, tables, visits, ids)
        out = list(tables.items())
    return out, cp.truth_rows(visits, new_of_old, ids, psn_ids)
