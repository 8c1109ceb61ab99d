"""``workbench import``: validate an extract and convert it into a data folder, or write nothing.

Two kinds of format:

``platform``
    A folder of CSV, XLSX or Parquet files named by contract table (:mod:`.platform`).
a mapped layout (``cms``, ...)
    Files recognised by their header and mapped to the contract by a YAML file in
    ``data/mappings/`` (:mod:`.mapping`).

Both go through the same validation (:mod:`.validate`): every problem is named by file, row
and column; any problem rejects the whole import and nothing is written. See ``docs/import.md``.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from .. import datafolder, schema
from ..errors import UnknownFormatError, WorkbenchError
from .mapping import available_layouts, check_provenance, load_mapping, read_mapped
from .platform import read_platform
from .problems import KINDS, Problem, ProblemLog
from .readers import file_stem
from .validate import Validator

__all__ = ["import_extract", "cli_import", "formats", "ImportResult", "Problem", "KINDS", "UnknownFormatError"]


def formats() -> list:
    """Every import format: ``platform`` and one per mapping file."""
    return ["platform"] + available_layouts()


@dataclass
class ImportResult:
    """What a successful import wrote.

    Attributes
    ----------
    out : Path
        The data folder.
    format : str
    rows : dict of str to int
        Rows per contract table written.
    provenance : dict of str to int
        Rows per provenance file written beside the tables (``cms_labels``).
    warnings : list of str
        Files and columns that were ignored.
    manifest : dict
        The data folder's ``data_manifest.json``.
    seconds : float
    """

    out: Path
    format: str
    rows: dict
    provenance: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        """A few lines for a person: rows per table."""
        lines = [f"imported {self.manifest.get('source', {}).get('path', '')} ({self.format}) into {self.out} in {self.seconds:.1f} s"]
        width = max(len(n) for n in list(self.rows) + list(self.provenance) + ["table"])
        for name, n in self.rows.items():
            lines.append(f"  {name:<{width}}  {n:>12,}")
        for name, n in self.provenance.items():
            lines.append(f"  {name:<{width}}  {n:>12,}  (provenance, not a contract table)")
        return "\n".join(lines)


def _check_paths(src: Path, out: Path, force: bool):
    if not src.is_dir():
        raise WorkbenchError(f"{src}: no such folder (an extract is a folder of CSV, XLSX or Parquet files)")
    s, o = src.resolve(), out.resolve()
    if o == s or o in s.parents:
        raise WorkbenchError(f"--out {out} would replace the extract {src}; choose another folder")
    datafolder.check_out(out, force)


def import_extract(src, fmt, out, max_report: int = 10, force: bool = False) -> ImportResult:
    """Validate the extract in folder ``src`` and write it as the data folder ``out``.

    Parameters
    ----------
    src : path
        Folder of the extract.
    fmt : str
        ``platform``, the name of a mapping in ``data/mappings`` (``cms``), or a path to a
        mapping YAML file.
    out : path
        Data folder to write: absent or empty unless ``force``.
    max_report : int
        Problems listed per kind in the error (all are counted).
    force : bool
        Write into a non-empty ``out``: only when the import succeeds, and only the files the
        import writes (its tables, provenance files, ``data_manifest.json``) are replaced; every
        other file is kept. A table or ``truth.parquet`` there that this import does not write
        is never deleted: the import is refused, naming it
        (:func:`workbench.datafolder.staged_folder`).

    Returns
    -------
    ImportResult

    Raises
    ------
    UnknownFormatError
        ``fmt`` is no known format.
    ImportValidationError
        Anything wrong with the extract; lists problems by file, row and column. Nothing is written.
    WorkbenchError
        ``src`` is not a folder, or ``out`` is not a place an import may write (a file, the
        extract itself, or a non-empty folder without ``force``).
    """
    started = time.perf_counter()
    mapping = None if fmt == "platform" else load_mapping(fmt)
    src, out = Path(src), Path(out)
    _check_paths(src, out, force)
    log, warnings = ProblemLog(max_report), []
    con = duckdb.connect(":memory:")
    try:
        if mapping is None:
            tables, sources = read_platform(src, con, log, warnings)
            roles, source_column, provenance = [_table_of(s) for s in sources], None, []
        else:
            got = read_mapped(src, mapping, con, log, warnings)
            tables, sources, roles = got["tables"], got["sources"], got["roles"]
            source_column, provenance = got["source_column"], got["provenance"]
        if log:  # files, tables or columns missing or unreadable: rows are not worth checking
            raise log.error(warnings)
        validator = Validator(con, [s.name for s in sources], log, source_column)
        validator.validate(tables)
        extra = {p: check_provenance(con, p, mapping.provenance[p], validator) for p in provenance}
        if log:
            raise log.error(warnings)
        source = {
            "format": fmt if mapping is None else mapping.name,
            "path": src.resolve().name,  # the extract's folder name: no machine path in a manifest
            "files": [dict(s.record(), **{"table" if mapping is None else "role": r}) for s, r in zip(sources, roles)],
        }
        if mapping is not None:
            source["mapping"] = {"file": mapping.path.name, "sha256": mapping.sha256}
        if warnings:
            source["ignored"] = warnings
        names = [n for n in schema.TABLE_ORDER if n in tables]
        manifest = _write(out, names, validator.typed_table, extra, source, force)
    finally:
        con.close()
    return ImportResult(out=out, format=source["format"], rows={n: manifest["tables"][n]["rows"] for n in names},
                        provenance={n: t.num_rows for n, t in extra.items()}, warnings=warnings,
                        manifest=manifest, seconds=time.perf_counter() - started)


def _table_of(sf) -> str:
    """The contract table a platform file holds (its name, or its folder's name)."""
    first = sf.name.split("/", 1)[0]
    return (first if "/" in sf.name else file_stem(first)).strip().lower()


def _write(out: Path, names: list, typed_table, extra: dict, source: dict, force: bool) -> dict:
    """Write the data folder atomically: contract tables, provenance files, manifest.

    Tables are converted (``typed_table(name)``) and written one at a time, so only one is
    held in memory as Arrow at once.
    """
    with datafolder.staged_folder(out, force=force) as tmp:
        for name in names:
            datafolder.write_table(tmp, name, typed_table(name))
        if extra:
            source["provenance"] = {}
            for name, at in extra.items():
                path = tmp / f"{name}.parquet"
                pq.write_table(at, path, compression="zstd")
                source["provenance"][name] = {"path": path.name, **datafolder.fingerprint(path)}
        manifest = datafolder.write_manifest(tmp, source)
    return manifest


def register(s) -> None:
    """Declare the options of ``workbench import`` on its parser (``workbench.cli`` assembles them)."""
    s.add_argument("src", metavar="SRC")
    s.add_argument("--format", required=True, choices=["platform", "cms"], dest="fmt")
    s.add_argument("--out", required=True, metavar="DATA")
    s.add_argument("--max-report", type=int, default=10, help="problems listed per kind (default 10)")
    s.add_argument("--force", action="store_true",
                   help="write into a non-empty --out, replacing only the files the import writes")


def cli_import(args) -> int:
    """``workbench import SRC --format FMT --out DATA [--max-report N] [--force]``: 0 on success.

    A rejected import raises :class:`~workbench.errors.ImportValidationError`, which the CLI
    prints and turns into exit code 1.
    """
    result = import_extract(args.src, args.fmt, args.out, max_report=getattr(args, "max_report", 10),
                            force=getattr(args, "force", False))
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(result.summary())
    return 0
