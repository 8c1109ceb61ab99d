"""Exception types a user can cause.

Every error that bad input, a bad command line or a missing table can produce is one of these,
with a message that names the file, row, column, table or rule involved.
"""


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class DataFolderError(WorkbenchError):
    """A data folder is missing, incomplete, or does not match its manifest."""


class ImportValidationError(WorkbenchError):
    """An import was rejected; nothing was written.

    Parameters
    ----------
    problems : list of Problem
        Every problem found (file, row, column, kind, message).
    total_counts : dict
        Number of problems of each kind, including those not listed.
    """

    def __init__(self, problems, total_counts=None):
        self.problems = list(problems)
        self.total_counts = dict(total_counts or {})
        super().__init__(self.report())

    def report(self, first_n=10):
        from collections import defaultdict

        by_kind = defaultdict(list)
        for p in self.problems:
            by_kind[p.kind].append(p)
        lines = [f"import rejected: {sum(self.total_counts.values()) or len(self.problems)} problem(s); nothing was written"]
        for kind, items in by_kind.items():
            n = self.total_counts.get(kind, len(items))
            lines.append(f"  {kind}: {n}")
            for p in items[:first_n]:
                lines.append(f"    {p}")
            if n > first_n:
                lines.append(f"    ... and {n - first_n} more")
        return "\n".join(lines)


class UnknownFormatError(WorkbenchError):
    """An import source is of a format the workbench does not know."""


class RuleError(WorkbenchError):
    """An unknown rule, a bad rule file, or a bad rule parameter."""


class MissingTableError(WorkbenchError):
    """A step needs a table that this data folder does not have."""


class LotteryError(WorkbenchError):
    """A 双随机 draw cannot be made or read (bad seed, strata, ratios, pool, or a conflict)."""


class CreditError(WorkbenchError):
    """A bad credit policy or findings table for doctors' points and institution classes."""


class CaseError(WorkbenchError):
    """A bad decision (status, amount, action, auditor) or a case store that cannot be written."""


class ReproduceError(WorkbenchError):
    """A run or evidence pack that cannot be read or re-run (missing files, altered pack)."""


class RunFolderError(DataFolderError):
    """A path that is not a run folder (no ``findings.parquet`` or ``manifest.json``), or a run
    folder that cannot be used as it is: the one error of :class:`workbench.runs.RunFolder`."""


class RunTampered(RunFolderError):
    """A run folder whose files differ from the SHA-256 its manifest records, or that records none.

    Raised by ``workbench export``, ``workbench case decide --run`` and the dashboards that open a
    run folder (:meth:`workbench.runs.RunFolder.open`, :func:`workbench.runs.verify_run`); the
    message names the file.
    """
