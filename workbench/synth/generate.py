"""``synthesize``: a whole synthetic region, chunk by chunk, into a data folder."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from .. import datafolder
from .chunk import run_chunk
from .knowledge import LEVELS, knowledge
from .output import DataWriter, Lookups, to_table
from .plan import make_plan, truth_row
from .planter import ChunkPlanter
from .region import DEPTS, PHARM_DEPT, build_region
from .scales import get_scale
from .stock import Accumulator, build_stock
from .supplement import plant_supplement

GENERATOR_VERSION = "1.0"
TRUTH_COLUMNS = ("case_id", "scenario", "rule_id", "fixmedins_code", "dr_code", "psn_no", "mdtrt_id", "members", "detail")


class _Planter:
    def __init__(self, plan, region, know):
        self.plan, self.region, self.know = plan, region, know

    def for_chunk(self, chunk, people, ident, visits, rng):
        return ChunkPlanter(self.plan, chunk, people, ident, visits, self.region, self.know, rng)


def _static_tables(region, know) -> dict:
    cat = know.cat
    return {
        "medins": to_table("medins", {
            "fixmedins_code": pa.array(list(region.inst_code), pa.string()),
            "fixmedins_name": pa.array(list(region.inst_name), pa.string()),
            "fixmedins_type": pa.array(list(region.inst_type), pa.string()),
            "hosp_lv": pa.array([LEVELS[i] for i in region.inst_lv], pa.string()),
            "admdvs": pa.array([region.county_code[c] for c in region.inst_county], pa.string()),
            "agrmt_stas": pa.array(list(region.inst_agrmt), pa.string()),
        }),
        "dr": to_table("dr", {
            "dr_code": pa.array(list(region.dr_code), pa.string()),
            "dr_name": region.dr_name,
            "fixmedins_code": pa.array(list(region.inst_code[region.dr_inst]), pa.string()),
            "dept_codg": pa.array([None if d == PHARM_DEPT else DEPTS[d] for d in region.dr_dept], pa.string()),
            "dr_type": pa.array(["pharmacist" if d == PHARM_DEPT else "doctor" for d in region.dr_dept], pa.string()),
        }),
        "list": datafolder.conform("list", cat.list_columns()),
        "list_incl": datafolder.conform("list_incl", cat.incl_columns()),
        "inspector": to_table("inspector", {c: region.inspectors[c] for c in region.inspectors.column_names}),
    }


def _check_institution_cases(acc, region, truth):
    """Keep only institution behaviours that reached the rule's threshold in the data (a small
    region may leave one short); returns the case ids dropped."""
    outliers = {region.inst_code[i] for i in acc.share_outliers()}
    abusers = {region.inst_code[i] for i in acc.tcm_abusers()}
    keep, dropped = [], []
    for r in truth:
        if (r["scenario"] in ("drug_heavy", "test_heavy") and r["fixmedins_code"] not in outliers) or \
                (r["scenario"] == "tcm_abuse" and r["fixmedins_code"] not in abusers):
            dropped.append(r["case_id"])
        else:
            keep.append(r)
    truth[:] = keep
    return dropped


def _secondary_truth(acc, plan, region, truth):
    """Truth rows for planted institutions that also stand out in cost shares (e.g. a TCM
    abuser's treatment share), so that finding them is not counted as a false alarm."""
    own = {}
    for row in truth:
        if row["fixmedins_code"] and row["mdtrt_id"] is None and row["psn_no"] is None and row["rule_id"] != "cost_share_outlier":
            own.setdefault(row["fixmedins_code"], row)
    code_of = region.inst_code
    have = {r["fixmedins_code"] for r in truth if r["rule_id"] == "cost_share_outlier"}
    incidental = []
    for i, kinds in sorted(acc.share_outliers().items()):
        code = code_of[i]
        if code in have:
            continue
        src = own.get(code)
        if src is None:
            incidental.append({"fixmedins_code": code, "shares": kinds})
            continue
        truth.append(truth_row(src["case_id"], src["scenario"], code, rule_id="cost_share_outlier",
                               detail=f"{region.inst_name[i]}的{'、'.join(kinds)}费用占比因所种案例同时偏离同类机构"))
    return incidental


def synthesize(out, scale="demo", seed=2024, progress=True, force=False) -> dict:
    """Generate a synthetic region with planted violations into the data folder ``out``.

    Parameters
    ----------
    out : path
        Destination data folder, absent or empty unless ``force``; written atomically when
        complete.
    scale : {"demo", "city", "province"} or Scale
        Size: demo ≈ 20 thousand persons, city ≈ 1 million, province ≈ 10 million.
    seed : int
        Everything random derives from ``numpy.random.default_rng(seed)``; the same seed gives
        byte-identical Parquet files.
    progress : bool
        Show a progress bar.
    force : bool
        Write into a non-empty ``out``, replacing only the files synth writes (its tables,
        ``truth.parquet``, ``data_manifest.json``); every other file is kept
        (:func:`workbench.datafolder.staged_folder`).

    Returns
    -------
    dict
        The data folder's manifest (``data_manifest.json``).
    """
    sc = get_scale(scale)
    datafolder.check_out(out, force)  # before minutes of work, not after
    know = knowledge()
    root = np.random.default_rng(seed)
    r_region, r_plan, r_stock, r_chunks = root.spawn(4)
    region = build_region(sc, r_region)
    plan = make_plan(sc, region, r_plan)
    chunk_rngs = r_chunks.spawn(len(region.chunks))
    lookups = Lookups(region, know)
    planter = _Planter(plan, region, know)
    acc = Accumulator(region, know)
    truth = list(plan.truth)
    rows = {"psn": 0, "mdtrt": 0, "fee": 0}
    with datafolder.staged_folder(out, force=force) as tmp:
        w = DataWriter(tmp, parts={"fee"} if sc.fee_parts else ())
        for name, table in _static_tables(region, know).items():
            w.write(name, table)
        bar = tqdm(region.chunks, desc=f"synth {sc.name}", unit="chunk", disable=not progress)
        for chunk in bar:
            tables, chunk_truth = run_chunk(chunk, region, know, lookups, planter, chunk_rngs[chunk.index], acc)
            for name, table in tables.items():
                w.write(name, table)
            for k in rows:
                rows[k] += tables[k].num_rows
            bar.set_postfix(persons=rows["psn"], fee_lines=rows["fee"], refresh=False)
            truth.extend(chunk_truth)
        # the supplement's rows come after every chunk's and leave the ledger and the chunks as
        # they were (synth/supplement.py)
        sup_tables, sup_truth = plant_supplement(sc, seed, region, know, lookups, background=acc)
        for name, table in sup_tables:
            if name == "stock":
                sup_stock = table
                continue
            w.write(name, table)
            if name in rows:
                rows[name] += table.num_rows
        truth.extend(sup_truth)
        stock, stock_truth = build_stock(acc, plan, region, know, r_stock)
        w.write("stock", to_table("stock", stock))
        w.write("stock", sup_stock)
        w.close()
        truth.extend(stock_truth)
        unrealised = _check_institution_cases(acc, region, truth)
        incidental = _secondary_truth(acc, plan, region, truth)
        truth.sort(key=lambda r: (r["scenario"], r["case_id"], r["rule_id"]))
        pq.write_table(pa.table({c: pa.array([r[c] for r in truth], pa.string()) for c in TRUTH_COLUMNS}),
                       tmp / datafolder.TRUTH, compression="zstd")
        counts = {}
        for r in truth:
            counts[r["scenario"]] = counts.get(r["scenario"], 0) + 1
        manifest = datafolder.write_manifest(tmp, source={
            "generator": "workbench.synth", "generator_version": GENERATOR_VERSION, "scale": sc.name, "seed": int(seed),
            "year": 2024, "region": "、".join(region.city_name), "counties": len(region.county_code),
            "persons": rows["psn"], "truth_rows_by_scenario": dict(sorted(counts.items())),
            "incidental_cost_share_outliers": incidental, "unrealised_cases": unrealised,
        })
    return manifest
