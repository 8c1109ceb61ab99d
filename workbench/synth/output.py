"""From the generator's arrays to contract tables, and the Parquet writers.

Identifiers: ``mdtrt_id`` = year + 4-digit chunk + 7-digit sequence in time order;
``setl_id`` = ``S`` + mdtrt_id + row (01 original, 02 refund, 03 re-settlement);
``feedetl_sn`` = 4-digit line number within the visit. Rows are written chunk by chunk in a
fixed order, so the same seed writes byte-identical files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import schema
from .region import DEPTS, PHARM_DEPT
from .sampling import YEAR, concat_str, decimal_from_fen, padded, timestamps, within


class Lookups:
    """Arrow arrays of codes and names, taken by index when building tables."""

    def __init__(self, region, know):
        self.inst_code = pa.array(list(region.inst_code), pa.string())
        self.dr_code = pa.array(list(region.dr_code), pa.string())
        dept = [None if d == "PH" else d for d in DEPTS]
        self.dept = pa.array(dept, pa.string())
        self.dr_dept = self.dept.take(pa.array(region.dr_dept))
        self.item_code = pa.array(list(know.cat.code), pa.string())
        self.item_type = pa.array(list(know.cat.chrgitm), pa.string())
        self.dx_code = pa.array(list(know.dx.code), pa.string())
        self.dx_name = pa.array(list(know.dx.name), pa.string())
        self.med = {11: "11", 14: "14", 21: "21", 41: "41"}


def _take_nullable(arr, idx):
    idx = np.asarray(idx, dtype=np.int64)
    return arr.take(pa.array(np.maximum(idx, 0), mask=idx < 0))


def visit_ids(chunk_index: int, n: int) -> pa.Array:
    return concat_str(pa.scalar(f"{YEAR}{chunk_index:04d}"), padded(np.arange(1, n + 1), 7))


def mdtrt_columns(lk: Lookups, ids, psn_ids, visits) -> dict:
    med = np.array(["11", "14", "21", "41"], dtype=object)
    med_ix = np.searchsorted(np.array([11, 14, 21, 41]), visits.med)
    return {
        "mdtrt_id": ids,
        "psn_no": psn_ids.take(pa.array(visits.p)),
        "fixmedins_code": lk.inst_code.take(pa.array(visits.inst)),
        "med_type": pa.array(med[med_ix], pa.string()),
        "begntime": timestamps(visits.d0, visits.t0),
        "endtime": timestamps(visits.d1, visits.t1),
        "dise_codg": lk.dx_code.take(pa.array(visits.dx)),
        "dise_name": lk.dx_name.take(pa.array(visits.dx)),
        "atddr_no": _take_nullable(lk.dr_code, visits.doc),
        "dept_codg": _take_nullable(lk.dept, np.where(visits.dept == PHARM_DEPT, -1, visits.dept)),
    }


def fee_columns(lk: Lookups, ids, psn_ids, visits, lines) -> dict:
    """Fee lines must be sorted by visit; line numbers restart at 0001 for each visit."""
    counts = np.bincount(lines.v, minlength=len(visits))
    det = np.rint(lines.cnt * lines.pric).astype(np.int64)
    v = pa.array(lines.v)
    return {
        "feedetl_sn": padded(within(counts[counts > 0]) + 1, 4),
        "mdtrt_id": ids.take(v),
        "psn_no": psn_ids.take(pa.array(visits.p[lines.v])),
        "fee_ocur_time": timestamps(lines.day, lines.sec),
        "med_list_codg": lk.item_code.take(pa.array(lines.item)),
        "med_chrgitm_type": lk.item_type.take(pa.array(lines.item)),
        "cnt": pa.array(lines.cnt, pa.float64()),
        "pric": decimal_from_fen(lines.pric),
        "det_item_fee_sumamt": decimal_from_fen(det),
        "bilg_dr_codg": _take_nullable(lk.dr_code, lines.bdoc),
        "bilg_dept_codg": _take_nullable(lk.dr_dept, lines.bdoc),
    }


def setl_columns(lk: Lookups, ids, psn_ids, visits, rows) -> dict:
    mid = ids.take(pa.array(rows.v))
    return {
        "setl_id": concat_str(pa.scalar("S"), mid, padded(rows.k, 2)),
        "mdtrt_id": mid,
        "psn_no": psn_ids.take(pa.array(visits.p[rows.v])),
        "fixmedins_code": lk.inst_code.take(pa.array(visits.inst[rows.v])),
        "setl_time": timestamps(rows.day, rows.sec),
        "medfee_sumamt": decimal_from_fen(rows.medfee),
        "hifp_pay": decimal_from_fen(rows.hifp),
        "acct_pay": decimal_from_fen(rows.acct),
        "psn_cash_pay": decimal_from_fen(rows.cash),
        "fund_pay_sumamt": decimal_from_fen(rows.hifp),
        "refd_setl_flag": pa.array(np.where(rows.refund, "1", "0"), pa.string()),
    }


def to_table(name: str, columns: dict) -> pa.Table:
    """Columns in contract order, cast to the contract's arrow types."""
    t = schema.table(name)
    present = [c for c in t.column_names if c in columns]
    return pa.table({c: columns[c] for c in present}).cast(t.arrow_schema(present))


class DataWriter:
    """Appends chunks to one Parquet file per table (or to a folder of parts for ``parts``)."""

    def __init__(self, folder, parts=()):
        self.folder = Path(folder)
        self.parts = set(parts)
        self.writers = {}
        self.n_parts = {}

    def write(self, name: str, table: pa.Table):
        if name in self.parts:
            d = self.folder / name
            d.mkdir(exist_ok=True)
            k = self.n_parts.get(name, 0)
            pq.write_table(table, d / f"part-{k:05d}.parquet", compression="zstd", row_group_size=1_000_000)
            self.n_parts[name] = k + 1
            return
        w = self.writers.get(name)
        if w is None:
            w = self.writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema, compression="zstd")
        w.write_table(table, row_group_size=1_000_000)

    def close(self):
        for w in self.writers.values():
            w.close()
        self.writers = {}
