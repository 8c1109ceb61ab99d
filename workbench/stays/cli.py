"""``workbench stays``: readmission pairs as CSV (the one CSV writer)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..params import days_argument, engine_argument, resource_arguments
from .episodes import readmission_pairs, readmission_pairs_spark


def register(parser) -> None:
    """Declare the options of ``workbench stays`` on its parser (``workbench.cli`` assembles them)."""
    parser.add_argument("data", metavar="DATA")
    parser.add_argument("--out", required=True, metavar="FILE.csv")
    engine_argument(parser)
    parser.add_argument("--window-days", type=days_argument, default=15)  # 0-9 digits, at most a century (issue 23)
    resource_arguments(parser)


def _csv_value(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    return str(v)


def write_pairs_csv(pairs: pd.DataFrame, path) -> Path:
    """Write readmission pairs as UTF-8 CSV with a BOM (Excel opens it as Chinese text).

    Money is written exactly as stored (``1234.50``), booleans as ``true``/``false``, nulls
    empty. The file is written beside ``path`` and renamed into place.
    """
    from ..csvfile import write_csv  # the one CSV writer: no cell a spreadsheet runs as a formula

    return write_csv(pairs, path, cell=lambda _column, v: _csv_value(v))


def cli_stays(args) -> int:
    """``workbench stays DATA --out FILE.csv [--window-days N] [--engine duckdb|spark]``."""
    from ..session import Session, resource_options

    with Session(args.data, **resource_options(args)) as session:
        if getattr(args, "engine", "duckdb") == "spark":
            pairs = readmission_pairs_spark(session, args.window_days)
        else:
            pairs = readmission_pairs(session, args.window_days)
        write_pairs_csv(pairs, args.out)
        stays = int(session.df("SELECT count(*) AS n FROM mdtrt WHERE med_type = '21'").n.iloc[0]) if session.has("mdtrt") else 0
    print(f"{len(pairs)} readmission pair(s) within {args.window_days} days at the same institution -> {args.out}")
    if stays == 0:
        print("stays: the data holds no inpatient stay (med_type 21), so no readmission can be looked for here "
              "(an extract of pharmacies or clinics?)")
    return 0
