"""The labels an analysis is evaluated against: a synthetic region's ``truth`` table.

Every analysis (:class:`~workbench.providers.ProviderAnalysis`,
:class:`~workbench.rings.RingAnalysis`, :class:`~workbench.stays.StayAnalysis`,
:class:`~workbench.rules.RuleAnalysis`) follows one
protocol: ``XAnalysis(session, params=None, seed=2024, engine="duckdb")`` and
``.evaluate(truth=None) -> DataFrame``. :func:`read_truth` is how ``truth=None`` is resolved.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import WorkbenchError

#: The seed every analysis uses unless told otherwise.
DEFAULT_SEED = 2024


def check_seed(seed, what: str) -> int:
    """``seed`` when it is an integer (not a bool), else a :class:`WorkbenchError` naming ``what``."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise WorkbenchError(f"{what}: seed must be an integer, got {seed!r}")
    return seed


def read_truth(session, truth=None, what: str = "evaluate") -> pd.DataFrame:
    """The truth rows to evaluate against.

    Parameters
    ----------
    session : Session
        Its ``truth`` table is the default (synthetic data folders carry one).
    truth : DataFrame or path, optional
        A truth frame, or a ``truth.parquet`` file.
    what : str
        Names the analysis in the error.

    Returns
    -------
    DataFrame

    Raises
    ------
    WorkbenchError
        No truth given and the data folder has none, or the file does not exist.
    """
    if truth is None:
        if not session.has("truth"):
            raise WorkbenchError(f"{what}: {session.folder} has no truth table (synthetic data has one); pass truth=")
        return session.df("SELECT * FROM truth")
    if isinstance(truth, (str, Path)):
        path = Path(truth)
        if not path.is_file():
            raise WorkbenchError(f"{what}: no truth file {path}")
        return pd.read_parquet(path)
    if not isinstance(truth, pd.DataFrame):
        raise WorkbenchError(f"{what}: truth must be a DataFrame or a Parquet file, got {type(truth).__name__}")
    return truth
