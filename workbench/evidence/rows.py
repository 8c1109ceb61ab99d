"""The rows behind a finding: parse its evidence keys and fetch those rows, masked.

Evidence keys are ``table:key`` strings (``docs/rules-spec.md``); a key with several parts joins
them with ``/`` in the order of the table's key columns below.
"""
from __future__ import annotations

import json
from collections import defaultdict

import pandas as pd

from .. import privacy
from ..errors import WorkbenchError

KEY_COLUMNS = {
    "mdtrt": ["mdtrt_id"],
    "setl": ["setl_id"],
    "fee": ["mdtrt_id", "feedetl_sn"],
    "psn": ["psn_no"],
    "insu": ["psn_no", "begndate"],
    "stock": ["fixmedins_code", "med_list_codg", "period"],
    "medins": ["fixmedins_code"],
    "dr": ["dr_code"],
}


def parse_keys(evidence) -> dict:
    """``['fee:M1/3', 'mdtrt:M1']`` (or its JSON) → ``{'fee': [('M1', '3')], 'mdtrt': [('M1',)]}``."""
    if isinstance(evidence, str):
        evidence = json.loads(evidence)
    out = defaultdict(list)
    for k in evidence:
        table, _, rest = str(k).partition(":")
        if table not in KEY_COLUMNS or not rest:
            raise WorkbenchError(f"evidence key {k!r}: unknown table or empty key")
        parts = tuple(rest.split("/", len(KEY_COLUMNS[table]) - 1))
        if len(parts) != len(KEY_COLUMNS[table]):
            raise WorkbenchError(f"evidence key {k!r}: {table} keys have {len(KEY_COLUMNS[table])} parts")
        out[table].append(parts)
    return dict(out)


def evidence_rows(session, evidence, include_pii: bool = False) -> dict:
    """The rows an evidence list names, one DataFrame per table, personal data masked.

    Parameters
    ----------
    session : workbench.Session
    evidence : list of str or JSON string
    include_pii : bool
        Show certno and names unmasked; only when an exporter asks for them by name.
    """
    frames = {}
    for table, keys in parse_keys(evidence).items():
        if not session.has(table):
            continue
        cols = KEY_COLUMNS[table]
        # the key of insu includes a date: compare its text form
        exprs = [f"CAST({c} AS VARCHAR)" for c in cols]
        keydf = pd.DataFrame(keys, columns=[f"k{i}" for i in range(len(cols))])
        session.con.register("_evidence_keys", keydf)
        try:
            cond = " AND ".join(f"{e} = _evidence_keys.k{i}" for i, e in enumerate(exprs))
            df = session.df(f'SELECT t.* FROM "{table}" t JOIN _evidence_keys ON {cond} ORDER BY {", ".join(cols)}')
        finally:
            session.con.unregister("_evidence_keys")
        frames[table] = df if include_pii else privacy.mask_frame(df)
    return frames
