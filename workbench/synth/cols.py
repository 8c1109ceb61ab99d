"""A minimal columnar container: named numpy arrays of one length."""
from __future__ import annotations

import numpy as np


class Cols:
    """Named numpy arrays of equal length (the generator's visit and fee-line tables)."""

    def __init__(self, **arrays):
        object.__setattr__(self, "_c", {k: np.asarray(v) for k, v in arrays.items()})

    def __getattr__(self, name):
        try:
            return self._c[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self._c[name] = np.asarray(value)

    def __len__(self):
        return len(next(iter(self._c.values()))) if self._c else 0

    @property
    def names(self):
        return list(self._c)

    def take(self, idx) -> "Cols":
        """Rows ``idx`` (indices or a boolean mask)."""
        return Cols(**{k: v[idx] for k, v in self._c.items()})

    @staticmethod
    def concat(parts) -> "Cols":
        """Rows of ``parts`` one after another (columns of the first part, same dtypes)."""
        parts = [p for p in parts if p is not None]
        names = parts[0].names
        return Cols(**{k: np.concatenate([p._c[k].astype(parts[0]._c[k].dtype, copy=False) for p in parts]) for k in names})

    def like(self, n, **values) -> "Cols":
        """``n`` new rows with this table's columns, filled from ``values`` (others 0 / -1)."""
        out = {}
        for k, v in self._c.items():
            if k in values:
                out[k] = np.broadcast_to(np.asarray(values[k], dtype=v.dtype), (n,)).copy()
            else:
                out[k] = np.full(n, -1 if np.issubdtype(v.dtype, np.signedinteger) else 0, dtype=v.dtype)
        return Cols(**out)
