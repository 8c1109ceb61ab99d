"""The ``platform`` format: a folder of files named by contract table, with contract columns.

``psn.csv``, ``mdtrt.xlsx``, ``fee.parquet``, or a folder ``fee/`` of parts in any of those
formats. File and column names are matched ignoring case and surrounding whitespace. A file
whose name is not a contract table is reported as a warning and ignored.
"""
from __future__ import annotations

from pathlib import Path

from .. import schema
from .problems import Problem
from .readers import file_kind, file_stem, read_source
from .validate import stage_text_table


def _ignored_silently(path: Path) -> bool:
    # Dot files (.DS_Store), Excel's lock files (~$psn.xlsx) and a previous import's manifest.
    return path.name.startswith((".", "~$")) or path.name == "data_manifest.json"


def find_table_files(src: Path):
    """Files of each contract table in ``src``, and warnings about the rest.

    Returns
    -------
    (dict of str to list of (name, Path), list of str)
    """
    by_table, warnings = {}, []
    for entry in sorted(src.iterdir(), key=lambda p: p.name):
        if _ignored_silently(entry):
            continue
        stem = entry.name.strip().lower() if entry.is_dir() else file_stem(entry).strip().lower()
        if stem not in schema.TABLES:
            warnings.append(f"{entry.name}: not a contract table ({', '.join(schema.TABLE_ORDER)}); ignored")
            continue
        if entry.is_dir():
            parts = sorted(p for p in entry.iterdir() if p.is_file() and not _ignored_silently(p))
            for p in parts:
                if file_kind(p):
                    by_table.setdefault(stem, []).append((f"{entry.name}/{p.name}", p))
                else:
                    warnings.append(f"{entry.name}/{p.name}: not a CSV (or .csv.gz), XLSX or Parquet file; ignored")
        elif file_kind(entry):
            by_table.setdefault(stem, []).append((entry.name, entry))
        else:
            warnings.append(f"{entry.name}: not a CSV (or .csv.gz), XLSX or Parquet file; ignored")
    return by_table, warnings


def read_platform(src: Path, con, log, warnings: list):
    """Read a platform extract into ``raw_<table>`` tables of ``con``.

    Parameters
    ----------
    src : Path
        The extract folder.
    con : duckdb.DuckDBPyConnection
    log : ProblemLog
        Receives unreadable files, missing tables and columns, malformed rows.
    warnings : list
        Receives a line per ignored file or column.

    Returns
    -------
    (list of str, list of SourceFile)
        Tables staged, and every source file read (index = ``_src``).
    """
    by_table, found_warnings = find_table_files(src)
    warnings.extend(found_warnings)
    for name in schema.REQUIRED_TABLES:
        if name not in by_table:
            log.add(Problem("missing table", None, None, None, None,
                            f"no file for required table {name} ({name}.csv, {name}.xlsx, {name}.parquet or a folder {name}/)"))
    sources, staged = [], []
    for name in schema.TABLE_ORDER:
        if name not in by_table:
            continue
        t = schema.table(name)
        parts = []
        for shown, path in by_table[name]:
            sf = read_source(path, shown)
            sources.append(sf)
            for p in sf.problems:
                log.add(p)
            if sf.data is None:
                continue
            have = set(sf.columns)
            for c in t.required_columns:
                if c not in have:
                    log.add(Problem("missing column", sf.name, None, c, None, f"no column {c} (required in table {name}); the header has: {', '.join(sf.header)}"))
            unknown = [h for h, c in zip(sf.header, sf.columns) if c not in t.column_names]
            if unknown:
                warnings.append(f"{sf.name}: column(s) {', '.join(unknown)} not in table {name}; ignored")
            parts.append((len(sources) - 1, sf.data))
        # Every file of a table must have the columns any of its parts has: a column absent from
        # one part would silently be empty for its rows.
        union = [c for c in t.column_names if any(c in d.column_names for _, d in parts)]
        for src_index, data in parts:
            for c in union:
                if c not in data.column_names and c not in t.required_columns:
                    log.add(Problem("missing column", sources[src_index].name, None, c, None,
                                    f"no column {c}, which other files of table {name} have"))
        if parts:
            staged_rows = stage_text_table(con, f"raw_{name}", parts, columns=union).num_rows
            if staged_rows == 0 and name in schema.REQUIRED_TABLES:
                files = ", ".join(sources[i].name for i, _ in parts)
                log.add(Problem("empty table", files, None, None, None,
                                f"a header but no rows: table {name} is required and may not be empty "
                                f"(an optional table such as fee may be)"))
            staged.append(name)
            for src_index, _ in parts:
                sources[src_index].release()
    return staged, sources
