"""A run folder: what ``workbench audit`` writes and everything else reads.

``RUN/findings.parquet`` and ``findings.csv`` (one row per finding, ``shared/cli.md``),
``manifest.json`` (:mod:`workbench.runs.manifest`) and, on synthetic data, ``evaluation.csv``.
:class:`RunFolder` is the one way in: it opens a run (refusing a path that is not one with
:class:`~workbench.errors.RunFolderError`) and, unless asked not to, checks every file against
the SHA-256 the manifest records (:class:`~workbench.errors.RunTampered`): a changed run must not
export, be decided on or be shown as the run it claims to be.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import datafolder
from ..csvfile import write_csv
from ..errors import RunFolderError
from . import manifest as _manifest

FINDINGS = "findings.parquet"
MANIFEST = "manifest.json"
FINDINGS_SCHEMA = pa.schema([
    ("finding_id", pa.string()), ("rule_id", pa.string()), ("official_code", pa.string()),
    ("result_type", pa.string()), ("fixmedins_code", pa.string()), ("dr_code", pa.string()),
    ("psn_no", pa.string()), ("mdtrt_id", pa.string()), ("amount_at_risk", pa.decimal128(18, 2)),
    ("evidence", pa.string()), ("detail", pa.string()), ("detail_en", pa.string()),
])


def findings_table(df: pd.DataFrame) -> pa.Table:
    """Findings as Arrow with the run-folder schema (amounts decimal128(18, 2))."""
    cols = {f.name: pa.array(list(df[f.name]) if len(df) else [], type=f.type) for f in FINDINGS_SCHEMA}
    return pa.table(cols, schema=FINDINGS_SCHEMA)


def write_findings(df: pd.DataFrame, folder) -> dict:
    """Write ``findings.parquet`` and ``findings.csv`` (UTF-8 with BOM, plain decimal text, no live
    formulas); returns their ``outputs`` entries for the manifest (SHA-256 and rows)."""
    folder = Path(folder)
    table = findings_table(df)
    pq.write_table(table, folder / FINDINGS)
    csv_df = df.copy()
    csv_df["amount_at_risk"] = [format(a, "f") for a in csv_df["amount_at_risk"]]
    write_csv(csv_df, folder / "findings.csv")
    return {
        FINDINGS: {"sha256": datafolder.sha256_file(folder / FINDINGS), "rows": table.num_rows},
        "findings.csv": {"sha256": datafolder.sha256_file(folder / "findings.csv"), "rows": table.num_rows},
    }


def read_findings(path) -> pd.DataFrame:
    """A ``findings.parquet`` as pandas, amounts as Decimal, nulls as None."""
    df = pq.read_table(path).to_pandas()
    return df.astype(object).where(df.notna(), None)


class RunFolder:
    """An opened run folder.

    Parameters
    ----------
    path : path
        The run folder.
    verify : bool
        Check the files against the SHA-256 the manifest records (default). ``workbench
        reproduce`` opens without it: it compares every finding itself.

    Attributes
    ----------
    path : Path
    manifest : dict
        ``RUN/manifest.json``.

    Raises
    ------
    RunFolderError
        ``path`` has no ``findings.parquet`` or no ``manifest.json``.
    RunTampered
        (a RunFolderError) a file differs from its recorded SHA-256, or the manifest records none.
    """

    def __init__(self, path, verify: bool = True):
        self.path = Path(path)
        for name in (FINDINGS, MANIFEST):
            if not (self.path / name).is_file():
                raise RunFolderError(f"{self.path}: not a run folder (no {name}); "
                                     "make one with `workbench audit DATA --out RUN`")
        self.manifest = _manifest.verify_run(self.path) if verify else _manifest.read(self.path)
        self.verified = bool(verify)

    @classmethod
    def open(cls, path, verify: bool = True) -> "RunFolder":
        """:class:`RunFolder` ``(path, verify)``; a RunFolder is returned as it is."""
        return path if isinstance(path, RunFolder) else cls(path, verify=verify)

    def verify(self) -> "RunFolder":
        """Check the files against the manifest's SHA-256 now (:func:`~workbench.runs.manifest.verify_run`)."""
        self.manifest = _manifest.verify_run(self.path)
        self.verified = True
        return self

    @property
    def findings_path(self) -> Path:
        return self.path / FINDINGS

    def findings(self) -> pd.DataFrame:
        """The findings, amounts as Decimal, nulls as None (:func:`read_findings`)."""
        return read_findings(self.findings_path)

    def findings_arrow(self) -> pa.Table:
        return pq.read_table(self.findings_path)

    @property
    def run_id(self) -> str:
        """The first 16 hex digits of the SHA-256 of ``manifest.json``: how cases and packs name a run."""
        return hashlib.sha256((self.path / MANIFEST).read_bytes()).hexdigest()[:16]

    @property
    def data_folder(self):
        """The data folder the run recorded, as a path (None when it records none); recorded
        relative to the run folder (older runs: absolute)."""
        return _manifest.data_folder_of(self.path, self.manifest)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r}, {len(self.manifest.get('rules') or {})} rules)"
