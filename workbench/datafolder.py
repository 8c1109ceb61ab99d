"""Data folders: one Parquet file (or folder of files) per contract table, plus a manifest.

Writing is atomic: everything is built in a temporary folder beside the destination and moved
into place at the end, so a failure never leaves a partial data folder. A writer refuses a
non-empty destination unless forced, and even then replaces only the files it writes
(:func:`staged_folder`).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
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
    from .version import __version__

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


def data_entries() -> set:
    """Entry names of a data folder that readers take as data (tables in both forms, truth, manifest)."""
    names = {MANIFEST, TRUTH, "truth"}
    for name in schema.TABLE_ORDER:
        names.update({f"{name}.parquet", name})
    return names


def check_out(out, force: bool = False, what: str = "data folder") -> None:
    """Refuse ``out`` before any work when writing there could lose a file.

    ``out`` may be absent or an empty folder; a non-empty folder only with ``force`` (and then only
    the writer's own files are replaced, see :func:`staged_folder`); a file never.

    Raises
    ------
    DataFolderError
        ``out`` is a file, or a non-empty folder and ``force`` is false.
    """
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise DataFolderError(f"--out {out} is a broken symbolic link; refusing to write through it")
    if not out.exists():
        return
    if not out.is_dir():
        raise DataFolderError(f"--out {out} is a file, not a folder; refusing to replace it")
    if not force:
        first = sorted(p.name for p in out.iterdir())
        if first:
            shown = ", ".join(first[:5]) + (f" and {len(first) - 5} more" if len(first) > 5 else "")
            raise DataFolderError(
                f"--out {out} is not empty ({shown}); choose an empty or new folder, or pass --force to "
                f"replace the {what}'s own files there (no other file is deleted)")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale_partials(out) -> list:
    """Remove the temporary folders an earlier writer of ``out`` left when it was killed.

    A writer names its folders ``.OUT.partial-PID-…`` / ``.OUT.old-PID``; those of a process that
    no longer runs are removed (they may hold personal data). Folders of a running writer are kept.

    Returns
    -------
    list of Path
        The folders removed.
    """
    out = Path(out).resolve()
    if not out.parent.is_dir():
        return []
    pat = re.compile(rf"^\.{re.escape(out.name)}\.(?:partial|old)-(\d+)(?:-.*)?$")
    removed = []
    for p in out.parent.iterdir():
        m = pat.match(p.name)
        if m and not _pid_alive(int(m.group(1))) and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


@contextmanager
def staged_folder(out, force: bool = False, entries=None, what: str = "data folder"):
    """Yield a temporary folder; on success move its contents to ``out``, on failure remove it.

    The temporary folder (mode 0700: it may hold personal data) is created beside ``out`` so
    the final moves are renames on the same file system; stale ones left by a killed writer of
    the same ``out`` are removed first.

    Parameters
    ----------
    out : path
        Destination folder.
    force : bool
        ``out`` must be absent or empty unless ``force`` (checked before anything is done).
        With ``force`` only the entries the writer wrote replace the same names in ``out``;
        every other file is left. An entry of ``out`` that readers would take as part of the
        new content but that this writer did not write (``entries``; e.g. a synth folder's
        ``truth.parquet`` under an import) is never deleted: the write is refused, naming it.
    entries : set of str, optional
        Those entry names (default: a data folder's, :func:`data_entries`).
    what : str
        What is written, for messages ("data folder", "run folder").

    Raises
    ------
    DataFolderError
        ``out`` is not empty and ``force`` is false, or it holds content this writer would
        leave stale. Nothing is changed.
    """
    out = Path(out).resolve()
    check_out(out, force, what)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
    try:
        yield tmp
        if out.is_dir() and any(out.iterdir()):
            _merge_into(tmp, out, data_entries() if entries is None else set(entries), what)
        else:
            if out.is_dir():
                out.rmdir()  # empty: nothing of anyone's is lost
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def _merge_into(tmp: Path, out: Path, entries: set, what: str) -> None:
    """Replace the entries of ``out`` that ``tmp`` holds; refuse when others would go stale.

    The manifest (``data_manifest.json`` / ``manifest.json``) is moved away first and in last,
    so a folder caught half-way is no valid folder rather than a mixed one; on an error every
    entry moved so far is put back.
    """
    new = {p.name for p in tmp.iterdir()}
    stale = sorted(n for n in (p.name for p in out.iterdir()) if n in entries and n not in new)
    if stale:
        raise DataFolderError(
            f"--out {out} holds {', '.join(stale)}, which this {what} does not write and which would be "
            f"read as part of it; nothing was written (move {'it' if len(stale) == 1 else 'them'} away first)")
    manifests = [n for n in (MANIFEST, "manifest.json") if n in new]
    order = [n for n in sorted(new) if n not in manifests] + manifests
    old = out.parent / f".{out.name}.old-{os.getpid()}-{os.urandom(4).hex()}"
    old.mkdir(mode=0o700)
    moved, placed = [], []
    try:
        for n in manifests:  # out stops being a valid folder before any table changes
            if (out / n).exists() or (out / n).is_symlink():
                os.rename(out / n, old / n)
                moved.append(n)
        for n in order:
            if n not in manifests and ((out / n).exists() or (out / n).is_symlink()):
                os.rename(out / n, old / n)
                moved.append(n)
            os.rename(tmp / n, out / n)
            placed.append(n)
    except BaseException:
        for n in reversed(placed):
            os.rename(out / n, tmp / n)
        for n in reversed(moved):
            os.rename(old / n, out / n)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_table(folder, name: str, data, row_group_size: int = 1_000_000) -> Path:
    """Write one table (conformed to the contract) as ``NAME.parquet`` in ``folder``."""
    at = conform(name, data) if name in schema.TABLES else data
    path = Path(folder) / f"{name}.parquet"
    pq.write_table(at, path, row_group_size=row_group_size, compression="zstd")
    return path


def write_data_folder(out, tables: dict, source: dict, truth=None, force: bool = False) -> dict:
    """Write a complete data folder atomically from in-memory tables.

    Parameters
    ----------
    out : path
        Destination: absent or empty, or with ``force`` a folder whose same-named files are
        replaced once everything has been written (:func:`staged_folder`).
    tables : dict of str to DataFrame or pyarrow.Table
        Contract tables by name; each is conformed to the contract types.
    source : dict
        Where the data came from (recorded in the manifest).
    truth : DataFrame, optional
        Planted cases of synthetic data, written as ``truth.parquet``.
    force : bool
        Write into a non-empty ``out`` (its other files are kept).
    """
    unknown = set(tables) - set(schema.TABLES)
    if unknown:
        raise DataFolderError(f"unknown table(s) {', '.join(sorted(unknown))}")
    with staged_folder(out, force=force) as tmp:
        for name in schema.TABLE_ORDER:
            if name in tables and tables[name] is not None:
                write_table(tmp, name, tables[name])
        if truth is not None:
            at = truth if isinstance(truth, pa.Table) else pa.Table.from_pandas(truth, preserve_index=False)
            pq.write_table(at, tmp / TRUTH)
        manifest = write_manifest(tmp, source)
    return manifest
