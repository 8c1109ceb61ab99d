"""Masking of personal data (身份证号, names) wherever a person looks."""
from __future__ import annotations

SENSITIVE = {"certno": "certno", "psn_name": "name", "dr_name": "name", "inspector_name": "name"}


def mask_certno(v):
    """``370102199001011234`` → ``3701**********1234``: the first 4 and last 4 characters kept."""
    if v is None or v != v:
        return v
    s = str(v)
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def mask_name(v):
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``: only the first character kept."""
    if v is None or v != v:
        return v
    s = str(v)
    if not s:
        return s
    return s[0] + "*" * (len(s) - 1 if len(s) > 1 else 1)


def mask_frame(df, columns=None):
    """A copy of a pandas frame with every sensitive column masked.

    ``columns`` limits masking to those names; by default every column the contract marks
    sensitive is masked.
    """
    out = df.copy()
    for col in out.columns:
        kind = SENSITIVE.get(col)
        if kind is None or (columns is not None and col not in columns):
            continue
        f = mask_certno if kind == "certno" else mask_name
        out[col] = out[col].map(f)
    return out
