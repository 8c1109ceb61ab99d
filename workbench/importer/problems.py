"""What an import found wrong: one :class:`Problem` per bad cell, row or file, collected per kind."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

# The kinds of problem an import reports, in the order a report lists them.
KINDS = (
    "unknown format",
    "unreadable file",
    "unrecognised file",
    "ambiguous file",
    "missing table",
    "empty table",
    "missing column",
    "duplicate column",
    "malformed row",
    "formula without value",
    "bad character",
    "null value",
    "bad date",
    "bad money",
    "bad number",
    "bad integer",
    "bad boolean",
    "bad code",
    "duplicate key",
    "dangling reference",
    "end before start",
    "negative money",
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an extract.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS` (``"bad date"``, ``"duplicate key"``, ...).
    file : str or None
        The source file as named inside the extract folder (``fee/part-2.csv``).
    row : int or None
        The row as a person sees it: in CSV and XLSX the header is row 1, so the first data row
        is row 2; in Parquet the first row is row 1. None for a problem of a whole file.
    column : str or None
        The contract column (``begntime``).
    value : str or None
        The offending value as it stands in the file.
    message : str
        What is wrong, in one sentence.
    source_column : str or None
        For a mapped layout (``cms``), the column of the source file the value came from.
    """

    kind: str
    file: str | None
    row: int | None
    column: str | None
    value: str | None
    message: str
    source_column: str | None = None

    def __str__(self) -> str:
        where = [self.file or "(extract)"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            col = self.column
            if self.source_column and self.source_column.lower() != self.column.lower():
                col = f"{self.source_column} (-> {self.column})"
            where.append(f"column {col}")
        text = ", ".join(where) + f": {self.message}"
        if self.value is not None:
            text += f" [value {self.value!r}]"
        return text


class ProblemLog:
    """Collects problems, keeping the first ``keep`` of each kind and counting all of them.

    Parameters
    ----------
    keep : int
        How many problems of each kind to keep for the report.
    """

    def __init__(self, keep: int = 10):
        self.keep = max(int(keep), 1)
        self.kept: list = []
        self.counts: Counter = Counter()

    def add(self, problem: Problem, count: int = 1):
        """Record ``problem``; ``count`` > 1 says it stands for that many of its kind."""
        n_kept = sum(1 for p in self.kept if p.kind == problem.kind)
        if n_kept < self.keep:
            self.kept.append(problem)
        self.counts[problem.kind] += count

    def extend(self, problems, total: int):
        """Record a sample of problems of one kind that stand for ``total`` problems."""
        problems = list(problems)
        for p in problems:
            self.add(p, count=0)
        if problems:
            self.counts[problems[0].kind] += total

    def __bool__(self) -> bool:
        return bool(self.counts)

    def sorted(self) -> list:
        """Kept problems ordered by kind (as in :data:`KINDS`), then file and row."""
        order = {k: i for i, k in enumerate(KINDS)}
        return sorted(self.kept, key=lambda p: (order.get(p.kind, len(order)), p.file or "", p.row or 0, p.column or ""))

    def error(self, warnings=()):
        """The :class:`~workbench.errors.ImportValidationError` that reports these problems.

        ``warnings`` (files and columns ignored) are appended: a misnamed file is often why a
        table is missing.
        """
        from ..errors import ImportValidationError

        kept = self.sorted()
        order = {k: i for i, k in enumerate(KINDS)}
        counts = dict(sorted(self.counts.items(), key=lambda kv: order.get(kv[0], len(order))))
        err = ImportValidationError(kept, counts)
        text = err.report(first_n=self.keep)
        if warnings:
            text += "\n  also ignored:\n" + "\n".join(f"    {w}" for w in warnings)
        err.args = (text,)
        return err
