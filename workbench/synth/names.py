"""Fake Chinese names and ID numbers.

Names are a surname drawn by frequency and one or two given-name characters drawn independently,
so they read naturally but belong to nobody in particular. ID numbers (身份证号) have the real
layout — 6-digit region, birth date, 3-digit sequence whose parity is the sex, check character —
but the check character is deliberately wrong (never the ISO 7064 MOD 11-2 value), so a
synthetic ``certno`` can never be a real person's number.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .knowledge import DATA
from .sampling import categorical, padded

CHECK_CHARS = np.array(list("10X98765432"), dtype=object)
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


@lru_cache(maxsize=1)
def _pools():
    spec = yaml.safe_load((DATA / "names.yaml").read_text(encoding="utf-8"))
    sur = np.array(list(spec["surnames"]), dtype=object)
    w = np.array(list(spec["surnames"].values()), dtype=np.float64)
    male = np.array(list(spec["male_given"]), dtype=object)
    female = np.array(list(spec["female_given"]), dtype=object)
    return sur, w, male, female


def person_names(sex, rng) -> pa.Array:
    """A fake name for each person of sex ``1`` / ``2`` (int array)."""
    sur, w, male, female = _pools()
    sex = np.asarray(sex)
    n = len(sex)
    s = sur[categorical(w, n, rng)]
    pool_m, pool_f = (rng.random(n) * len(male)).astype(int), (rng.random(n) * len(female)).astype(int)
    g1 = np.where(sex == 1, male[pool_m], female[pool_f])
    pool_m2, pool_f2 = (rng.random(n) * len(male)).astype(int), (rng.random(n) * len(female)).astype(int)
    g2 = np.where(sex == 1, male[pool_m2], female[pool_f2])
    two = rng.random(n) < 0.7
    g2 = np.where(two, g2, "")
    return pc.binary_join_element_wise(pa.array(s, pa.string()), pa.array(g1, pa.string()), pa.array(g2, pa.string()), "")


def _mod11(first17) -> np.ndarray:
    x = np.asarray(first17, dtype=np.int64).copy()
    total = np.zeros(len(x), dtype=np.int64)
    for pos in range(16, -1, -1):
        total += (x % 10) * WEIGHTS[pos]
        x //= 10
    return total % 11


def check_char(first17) -> np.ndarray:
    """The ISO 7064 MOD 11-2 check character of 17-digit numbers (int64 array)."""
    return CHECK_CHARS[_mod11(first17)]


def certnos(region, birth_ymd, sex, seq) -> pa.Array:
    """Fake ID numbers from region code, birth date (yyyymmdd), and the 3-digit sequence ``seq``
    (odd for men, even for women); the check character is never the valid one."""
    first = np.asarray(region, dtype=np.int64) * 10**11 + np.asarray(birth_ymd, dtype=np.int64) * 1000 + np.asarray(seq, dtype=np.int64)
    wrong = (_mod11(first) + 1 + first % 10) % 11  # any character but the right one
    return pc.binary_join_element_wise(padded(first, 17), pa.array(CHECK_CHARS[wrong], pa.string()), "")
