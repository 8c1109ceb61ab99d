"""双随机、一公开: a stratified inspection lottery anyone can re-run from its published seed.

The package, lowest first (a module imports only those above it in this list):

- :mod:`~workbench.lottery.algorithm`: the algorithm, pure (rank, allocation, teams, the record);
- :mod:`~workbench.lottery.drawing`: a draw on a data folder, :class:`Draw`, the archive;
- :mod:`~workbench.lottery.verification`: re-make a draw and name every difference;
- :mod:`~workbench.lottery.publication`: the public notice (HTML, CSV);
- :mod:`~workbench.lottery.cli`: ``workbench lottery …``.

``verify_draw.py`` stands apart: the standard-library check published beside every notice for
a citizen to read and run; it imports nothing of the workbench. The modules are not named
``draw`` and ``verify`` so that the functions :func:`draw` and :func:`verify` exported here do
not shadow them.
"""
from . import verify_draw  # noqa: F401
from .algorithm import (ALGORITHM, CREDIT, DEFAULT_CLASS, DEFAULT_RATIOS, DEFAULT_STRATA, USED_TABLES,  # noqa: F401
                        allocate, assign_teams, compose, conflicts, credit_classes, flying_shortlist,
                        list_fingerprint, order_ids, parse_date, parse_ratios, parse_strata, rank, seed_from_bytes)
from .drawing import Draw, archive, draw, make  # noqa: F401
from .publication import publish  # noqa: F401
from .verification import Verification, verify  # noqa: F401
