"""Vectorised sampling and the calendar of the synthetic year.

Everything here works on whole numpy arrays: the generator never loops per visit or per fee line.
Days are integers counted from 1 January of :data:`YEAR` (day 0); times of day are seconds.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

YEAR = 2024
DAYS = 366  # 2024 is a leap year
EPOCH_DAY = int(np.datetime64(f"{YEAR}-01-01", "D").astype(np.int64))  # days since 1970-01-01
_DATES = np.arange(np.datetime64(f"{YEAR}-01-01"), np.datetime64(f"{YEAR + 1}-01-01"))
MONTH = (_DATES.astype("datetime64[M]").astype(int) % 12).astype(np.int8)  # 0..11 per day
MONTH_DAY = (MONTH.astype(np.int32) + 1) * 100 + (_DATES - _DATES.astype("datetime64[M]")).astype(int) + 1
MONTH_START = np.searchsorted(MONTH, np.arange(13))  # first day of each month, 13th = DAYS
WEEKDAY = ((_DATES.astype(np.int64) + 3) % 7).astype(np.int8)  # 0 = Monday
SEASON = np.array([0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0], dtype=np.int8)[MONTH]  # winter, spring, summer, autumn


def age_at(birth_year, birth_md, day):
    """Whole years of age on ``day`` of someone born in ``birth_year`` on month*100+day ``birth_md``."""
    day = np.asarray(day)
    return (YEAR - np.asarray(birth_year) - (MONTH_DAY[day] < np.asarray(birth_md))).astype(np.int16)


def within(counts):
    """0, 1, ... k-1 for each group of ``counts`` (the position of each repeated row in its group)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(starts, counts)


class RowSampler:
    """Draw one item per row, each row with its own weights, in one vectorised step.

    Row ``r``'s cumulative weights are stored shifted by ``r`` in one increasing array, so a
    single ``searchsorted`` of ``r + u`` (``u`` uniform in [0, 1)) finds the item for every row.

    Parameters
    ----------
    items : list of array
        The items of each row.
    weights : list of array
        Their weights (non-negative). A row whose weights sum to 0 draws ``-1``.
    """

    def __init__(self, items, weights):
        vals, its, ends = [], [], []
        n = 0
        self.valid = np.zeros(len(items), dtype=bool)
        for r, (it, w) in enumerate(zip(items, weights)):
            w = np.asarray(w, dtype=np.float64)
            it = np.asarray(it, dtype=np.int64)
            if len(w) == 0 or w.sum() <= 0:
                w, it = np.ones(1), np.array([-1])
            else:
                self.valid[r] = True
            c = np.cumsum(w) / w.sum()
            c[-1] = 1.0
            vals.append(r + c)
            its.append(it)
            n += len(it)
            ends.append(n)
        self.vals = np.concatenate(vals)
        self.items = np.concatenate(its)
        self.ends = np.asarray(ends, dtype=np.int64)

    @classmethod
    def from_matrix(cls, w):
        """Rows of a dense weight matrix; items are the column numbers."""
        w = np.asarray(w, dtype=np.float64)
        cols = np.arange(w.shape[1])
        return cls([cols] * w.shape[0], list(w))

    def sample(self, rows, rng):
        rows = np.asarray(rows, dtype=np.int64)
        u = rng.random(len(rows))
        pos = np.searchsorted(self.vals, rows + u, side="right")
        pos = np.minimum(pos, self.ends[rows] - 1)  # guard against r + u rounding up to r + 1
        return self.items[pos]


def categorical(p, size, rng):
    """``size`` draws of 0..len(p)-1 with probabilities ``p``."""
    c = np.cumsum(np.asarray(p, dtype=np.float64))
    c /= c[-1]
    return np.minimum(np.searchsorted(c, rng.random(size), side="right"), len(c) - 1)


# --- arrow conversions -------------------------------------------------------------------------

def decimal_from_fen(fen) -> pa.Array:
    """Exact ``decimal128(18, 2)`` yuan from integer fen, built from the buffer (no float)."""
    fen = np.ascontiguousarray(fen, dtype=np.int64)
    buf = np.empty((len(fen), 2), dtype=np.int64)
    buf[:, 0] = fen
    buf[:, 1] = fen >> 63  # sign extension of the 128-bit two's complement
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(fen), [None, pa.py_buffer(buf)])


def timestamps(day, sec) -> pa.Array:
    """``timestamp[us]`` from day of the year and second of the day."""
    micros = (EPOCH_DAY + np.asarray(day, dtype=np.int64)) * 86_400_000_000 + np.asarray(sec, dtype=np.int64) * 1_000_000
    return pa.array(micros.view("datetime64[us]"))


def dates(day) -> pa.Array:
    """``date32`` from day of the year (may lie outside the year)."""
    return pa.array((EPOCH_DAY + np.asarray(day, dtype=np.int64)).astype(np.int32), type=pa.int32()).cast(pa.date32())


def padded(numbers, width: int) -> pa.Array:
    """Zero-padded decimal strings of non-negative integers."""
    return pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width, "0")


def concat_str(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays (or scalars)."""
    return pc.binary_join_element_wise(*parts, "")


def join_members(psn_ids, persons, doctors_codes):
    """``;``-joined sorted psn_no of ``persons`` then sorted doctor codes."""
    ps = sorted(pc.take(psn_ids, pa.array(persons)).to_pylist())
    return ";".join(ps + sorted(doctors_codes))
