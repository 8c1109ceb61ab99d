"""Cases (线索 → 核查 → 处理): auditors' decisions in an append-only, hash-chained store.

The package, lowest first (a module imports only those above it in this list):

- :mod:`~workbench.cases.chain`: event format, hashing, money in fen, the finding snapshot;
- :mod:`~workbench.cases.trail`: verify the hash chain (:func:`verify_store`);
- :mod:`~workbench.cases.figures`: briefing figures from the current state (a pure function);
- :mod:`~workbench.cases.store`: :class:`CaseStore`, the SQLite store many writers share;
- :mod:`~workbench.cases.cli`: ``workbench case …``.

This façade exports what the rest of the workbench and the widgets use.
"""
from .chain import (ACTIONS, BUSY_SECONDS, CURRENT_COLUMNS, EVENT_COLUMNS, FILE, FORMAT, GENESIS,  # noqa: F401
                    HISTORY_COLUMNS, MONEY_LIMIT, SNAPSHOT_KEYS, STATUS_ZH, STATUSES, TRIGGERS, action_names,
                    canonical, event_hash, finding_snapshot, fine_of, home_dir, normalise_actions, now, row_event,
                    run_id, snapshot, to_fen, yuan)
from .figures import FIGURES  # noqa: F401
from .store import CaseStore, briefing_figures, current_frame  # noqa: F401
from .trail import Problem, TrailCheck, verify_store  # noqa: F401
