"""``workbench providers DATA --out FILE.csv [--engine duckdb]``."""
from __future__ import annotations

from ..errors import WorkbenchError


def cli_providers(args) -> int:
    """Profile every institution of DATA and write the ranked table (``shared/cli.md``)."""
    if getattr(args, "engine", "duckdb") != "duckdb":
        raise WorkbenchError(f"providers: engine {args.engine!r} is not supported for providers; use --engine duckdb")
    from ..session import Session
    from .analysis import profile_providers

    with Session(args.data) as session:
        session.con.execute("SET enable_progress_bar = false")  # the command prints one summary line
        result = profile_providers(session)
        result.to_csv(args.out)
        n_out = int(result.institutions.outlier.sum())
    print(f"{len(result)} institution(s) in {result.institutions.peer_group.nunique()} peer group(s), "
          f"{n_out} flagged as outliers -> {args.out}")
    return 0
