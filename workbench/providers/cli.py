"""``workbench providers DATA --out FILE.csv [--engine duckdb|spark]``."""
from __future__ import annotations

from ..params import engine_argument, resource_arguments


def register(parser) -> None:
    """Declare the options of ``workbench providers`` on its parser (``workbench.cli`` assembles them)."""
    parser.add_argument("data", metavar="DATA")
    parser.add_argument("--out", required=True, metavar="FILE.csv")
    engine_argument(parser)
    resource_arguments(parser)


def cli_providers(args) -> int:
    """Profile every institution of DATA and write the ranked table (``shared/cli.md``).

    ``--engine spark`` runs the profile SQL on Spark (local mode); the scoring is the same Python,
    and the CSV is the same, byte for byte.
    """
    from ..session import Session, resource_options
    from .analysis import profile_providers
    from .output import write_csv

    engine = getattr(args, "engine", None) or "duckdb"
    with Session(args.data, **resource_options(args)) as session:
        session.con.execute("SET enable_progress_bar = false")  # the command prints one summary line
        result = profile_providers(session, engine=engine)
        write_csv(result.institutions, args.out)
        n_out = int(result.institutions.outlier.sum())
    print(f"{len(result)} institution(s) in {result.institutions.peer_group.nunique()} peer group(s), "
          f"{n_out} flagged as outliers -> {args.out}")
    return 0
