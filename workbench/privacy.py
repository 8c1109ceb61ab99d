"""Masking of personal data (身份证号, names, birth dates) wherever a person looks.

Masking must hold for the row, not the column (个人信息保护法): a Chinese ID number is
region (6 digits) + birth date (8) + sequence (3, the last one's parity is the sex) + a check
character, and evidence rows show the region (``insuplc_admdvs``) and the sex (``gend``) beside
it. Keeping the first and last four characters of ``certno`` next to a full ``brdy`` left about
three unknown digits, which the check character then verified: 54 of 70 numbers of the demo
were rebuilt that way. So the policy, applied here and nowhere else:

==================  ==========================  ===============================================
column              shown as                    why
==================  ==========================  ===============================================
``certno``          ``******************``      every digit is implied by, or narrows, the
                                                others; the check character verifies guesses
``brdy``            ``1990-**-**`` (the year)   with region and sex known, an exact birth date
                                                leaves only the 500 sequences of that sex
``psn_name``,       ``张*`` (first character,    the surname alone names nobody; the length of
``dr_name``,        one star whatever the       the given name is not shown either
``inspector_name``  length)
==================  ==========================  ===============================================

With the year, region and sex shown and no digit of the number, an ID number has about
183,000 candidates (365 days x 500 sequences); an age shown at a visit date (the age rules'
``detail``) still leaves months of birth dates. ``tests/test_privacy.py`` runs that attack on a
default evidence pack of the demo data and asserts every person keeps at least 1,000
candidates. ``--include-pii`` exports the columns unmasked, and the pack says so.
"""
from __future__ import annotations

import datetime as _dt

SENSITIVE = {"certno": "certno", "psn_name": "name", "dr_name": "name", "inspector_name": "name", "brdy": "birth"}
POLICY = {"certno": "hidden", "psn_name": "first character", "dr_name": "first character",
          "inspector_name": "first character", "brdy": "year"}


def _missing(v) -> bool:
    try:
        return v is None or v != v or str(v) == "NaT"
    except (TypeError, ValueError):  # pd.NA compares to nothing
        return True


def mask_certno(v):
    """``370102199001011234`` → ``******************``: no character kept (see the module note)."""
    if _missing(v):
        return None
    return "*" * len(str(v))


def mask_name(v):
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧*``: the first character and one star."""
    if _missing(v):
        return None
    s = str(v)
    return s[:1] + "*" if s else s


def mask_birthdate(v):
    """A birth date (date, timestamp or ``YYYY-MM-DD`` text) → ``1990-**-**``: the year only."""
    if _missing(v):
        return None
    if isinstance(v, (_dt.date, _dt.datetime)) or hasattr(v, "year"):
        year = f"{int(v.year):04d}"
    else:
        s = str(v).strip()
        year = s[:4] if len(s) >= 4 and s[:4].isdigit() else ""
    return f"{year}-**-**" if year else "****-**-**"


MASKS = {"certno": mask_certno, "name": mask_name, "birth": mask_birthdate}


def masked_columns() -> list:
    """The column names masked by default, sorted (what a pack's ``pack.json`` lists)."""
    return sorted(SENSITIVE)


def mask_frame(df, columns=None):
    """A copy of a pandas frame with every sensitive column masked (:data:`POLICY`).

    ``columns`` limits masking to those names; by default every column the policy names is
    masked. A masked column holds text.
    """
    out = df.copy()
    for col in out.columns:
        kind = SENSITIVE.get(col)
        if kind is None or (columns is not None and col not in columns):
            continue
        out[col] = out[col].astype(object).map(MASKS[kind])
    return out
