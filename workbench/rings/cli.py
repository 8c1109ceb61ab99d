"""``workbench rings DATA --out FILE.csv [--engine duckdb|spark]``."""
from __future__ import annotations

from ..params import engine_argument, resource_arguments
from .analysis import DEFAULT_SEED, RingAnalysis
from .export import signals_path, write_rings_csv, write_signals_csv


def register(parser) -> None:
    """Declare the options of ``workbench rings`` on its parser (``workbench.cli`` assembles them)."""
    parser.add_argument("data", metavar="DATA")
    parser.add_argument("--out", required=True, metavar="FILE.csv")
    engine_argument(parser)
    resource_arguments(parser)


def cli_rings(args) -> int:
    """``workbench rings DATA --out FILE.csv [--engine duckdb|spark]``.

    Writes the rings to ``FILE.csv`` and the other findings (cards at many pharmacies in a day,
    doctors at impossible volume) to ``FILE.signals.csv``; prints one line of figures. With
    ``--engine spark`` the SQL steps run on Spark (local mode) and the files are the same.
    """
    from ..session import Session, resource_options

    with Session(args.data, **resource_options(args)) as session:
        session.con.execute("SET enable_progress_bar = false")  # one summary line, not DuckDB's bars
        a = RingAnalysis(session, seed=getattr(args, "seed", None) or DEFAULT_SEED,
                         engine=getattr(args, "engine", None) or "duckdb")
        path = write_rings_csv(a.rings, args.out)
        spath = write_signals_csv(a.signals, signals_path(args.out))
        print(f"rings: {len(a.rings)} ring(s) from {a.graph.number_of_edges()} suspicious edge(s) "
              f"of {sum(a.edge_counts.values())}; {len(a.signals)} other finding(s); "
              f"wrote {path} and {spath} in {sum(a.timings.values()):.1f} s")
        if not a.edge_counts.get("dr_pharmacy"):
            print("rings: no pharmacy purchase (med_type 41) in the data is linked to a doctor — none carries a "
                  "prescribing doctor (atddr_no) nor falls on the day of an outpatient visit (11, 14) — so no "
                  "ring can be looked for here (the cards and doctors of the signals file still are)")
    return 0
