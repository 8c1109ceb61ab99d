"""Data folders: one Parquet file (or folder of files) per contract table, plus a manifest.

Writing is atomic: everything is built in a temporary folder beside the destination and moved
into place at the end, so a failure never leaves a partial data folder.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema
from .errors import DataFolderError

MANIFEST = "data_manifest.json"
TRUTH = "truth.parquet"


def table_path(folder, name: str):
    """Path of table ``name`` in a data folder (file or folder of parts), or None if absent."""
    folder = Path(folder)
    f = folder / f"{name}.parquet"
    if f.is_file():
        return f
    d = folder / name
    if d.is_dir() and any(d.glob("*.parquet")):
        return d
    return None


def table_files(path) -> list:
    path = Path(path)
    return sorted(path.glob("*.parquet")) if path.is_dir() else [path]


def conform(name: str, data) -> pa.Table:
    """Cast clean data (a pandas frame, arrow table or dict of columns) to the contract types.

    Columns are put in contract order; optional columns that are missing are left out; a
    required column that is missing raises. Use the importer for untrusted data: it reports
    problems by row instead.
    """
    t = schema.table(name)
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if isinstance(data, pd.DataFrame):
        cols = {}
        for c in t.columns:
            if c.name not in data.columns:
                continue
            cols[c.name] = _to_arrow(data[c.name], c)
        at = pa.table(cols)
    else:
        at = data
    missing = [c for c in t.required_columns if c not in at.column_names]
    if missing:
        raise DataFolderError(f"table {name}: missing column(s) {', '.join(missing)}")
    present = [c for c in t.column_names if c in at.column_names]
    at = at.select(present)
    return at.cast(t.arrow_schema(present))


def _to_arrow(series: pd.Series, col) -> pa.Array:
    import decimal

    if col.type == "dec":
        vals = [None if _isnull(v) else decimal.Decimal(str(v)).quantize(decimal.Decimal("0.01")) for v in series]
        return pa.array(vals, type=col.arrow_type)
    if col.type == "str":
        vals = [None if _isnull(v) else str(v) for v in series]
        return pa.array(vals, type=pa.string())
    if col.type in ("date", "ts"):
        s = pd.to_datetime(series)
        if col.type == "date":
            return pa.array(s.dt.date.where(s.notna(), None), type=pa.date32())
        return pa.array(s.astype("datetime64[us]"), type=col.arrow_type)
    if col.type == "bool":
        return pa.array([None if _isnull(v) else bool(v) for v in series], type=pa.bool_())
    if col.type == "int":
        return pa.array([None if _isnull(v) else int(v) for v in series], type=pa.int64())
    return pa.array(pd.to_numeric(series), type=col.arrow_type)


def _isnull(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def sha256_file(path, chunk=1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def fingerprint(path) -> dict:
    """SHA-256 and row count of a table stored as one file or a folder of parts."""
    files = table_files(path)
    if len(files) == 1 and Path(path).is_file():
        digest = sha256_file(files[0])
    else:
        h = hashlib.sha256()
        for f in files:
            h.update(f.name.encode() + b"\0" + sha256_file(f).encode() + b"\n")
        digest = h.hexdigest()
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return {"sha256": digest, "rows": rows, "files": len(files)}


def write_manifest(folder, source: dict) -> dict:
    """Fingerprint every table in ``folder`` and write ``data_manifest.json``."""
    folder = Path(folder)
    tables = {}
    for name in schema.TABLE_ORDER + ["truth"]:
        p = table_path(folder, name)
        if p is not None:
            tables[name] = {"path": p.name, **fingerprint(p)}
    from . import __version__

    manifest = {
        "contract": "shared/schema.md",
        "workbench_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "tables": tables,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    return manifest


def read_manifest(folder) -> dict:
    p = Path(folder) / MANIFEST
    if not p.is_file():
        raise DataFolderError(f"{folder}: not a data folder (no {MANIFEST})")
    return json.loads(p.read_text(encoding="utf-8"))


def verify_manifest(folder) -> list:
    """Tables whose fingerprint no longer matches the manifest (empty when all match)."""
    m = read_manifest(folder)
    changed = []
    for name, rec in m["tables"].items():
        p = table_path(folder, name)
        if p is None:
            changed.append(f"{name}: missing")
        elif fingerprint(p)["sha256"] != rec["sha256"]:
            changed.append(f"{name}: sha256 differs from the manifest")
    return changed


@contextmanager
def staged_folder(out):
    """Yield a temporary folder; on success replace ``out`` with it, on failure remove it.

    The temporary folder is created beside ``out`` so the final move is a rename on the same
    file system. An existing ``out`` is only replaced once the new one is complete.
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
    os.rename(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_table(folder, name: str, data, row_group_size: int = 1_000_000) -> Path:
    """Write one table (conformed to the contract) as ``NAME.parquet`` in ``folder``."""
    at = conform(name, data) if name in schema.TABLES else data
    path = Path(folder) / f"{name}.parquet"
    pq.write_table(at, path, row_group_size=row_group_size, compression="zstd")
    return path


def write_data_folder(out, tables: dict, source: dict, truth=None) -> dict:
    """Write a complete data folder atomically from in-memory tables.

    Parameters
    ----------
    out : path
        Destination; replaced only when everything has been written.
    tables : dict of str to DataFrame or pyarrow.Table
        Contract tables by name; each is conformed to the contract types.
    source : dict
        Where the data came from (recorded in the manifest).
    truth : DataFrame, optional
        Planted cases of synthetic data, written as ``truth.parquet``.
    """
    unknown = set(tables) - set(schema.TABLES)
    if unknown:
        raise DataFolderError(f"unknown table(s) {', '.join(sorted(unknown))}")
    with staged_folder(out) as tmp:
        for name in schema.TABLE_ORDER:
            if name in tables and tables[name] is not None:
                write_table(tmp, name, tables[name])
        if truth is not None:
            at = truth if isinstance(truth, pa.Table) else pa.Table.from_pandas(truth, preserve_index=False)
            pq.write_table(at, tmp / TRUTH)
        manifest = write_manifest(tmp, source)
    return manifest
