"""``workbench lottery draw`` and ``workbench lottery verify``."""
from __future__ import annotations

from .drawing import archive, draw
from .publication import publish
from .verification import verify


def register(parser) -> None:
    """Declare ``workbench lottery draw`` and ``lottery verify`` on the ``lottery`` parser."""
    lot = parser.add_subparsers(dest="sub", metavar="ACTION")
    s = lot.add_parser("draw", help="draw institutions and inspectors")
    s.add_argument("data", metavar="DATA")
    s.add_argument("--seed", required=True)
    s.add_argument("--institutions", type=int, required=True)
    s.add_argument("--inspectors", type=int, required=True)
    s.add_argument("--out", required=True, metavar="DRAW.json")
    s.add_argument("--strata", default=None, help="medins columns, comma-separated (default admdvs,fixmedins_type); credit class is always a stratum")
    s.add_argument("--ratios", default=None, help="sampling ratio per credit class (default A=5%%,B=10%%,C=20%%,D=40%%)")
    s.add_argument("--credit", default=None, metavar="FILE.csv", help="credit classes: columns fixmedins_code, credit_class")
    s.add_argument("--team-size", type=int, default=2)
    s.add_argument("--exclude-own-county", action="store_true", help="no inspector inspects in their own county")
    s.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="date of the draw (default today)")
    s.add_argument("--publish", default=None, metavar="DIR", help="also write the public notice (HTML, CSV) to DIR")
    s.add_argument("--publish-names", action="store_true", help="name the inspectors in the notice")
    s = lot.add_parser("verify", help="verify a draw independently")
    s.add_argument("draw", metavar="DRAW.json")
    s.add_argument("--data", required=True, metavar="DATA")


def cli_draw(args) -> int:
    """``workbench lottery draw DATA --seed S --institutions N --inspectors M --out DRAW.json``."""
    d = draw(args.data, args.seed, args.institutions, args.inspectors, strata=args.strata,
             ratios=getattr(args, "ratios", None), credit=getattr(args, "credit", None),
             team_size=getattr(args, "team_size", 2), exclude_own_county=getattr(args, "exclude_own_county", False),
             date=getattr(args, "date", None))
    out = d.save(args.out)
    kept = archive(d)
    n_strata = sum(1 for c in d.cells if c["drawn"])
    print(f"drew {len(d.drawn_institutions)} institutions in {n_strata} strata and {len(d.drawn_inspectors)} inspectors "
          f"(seed {d.seed!r}, {d.date}); wrote {out} (sha256 {d.sha256[:12]}…, copy in {kept})")
    if getattr(args, "publish", None):
        paths = publish(d, args.data, args.publish, names=getattr(args, "publish_names", False))
        print("published " + ", ".join(str(p) for p in paths.values()))
    return 0


def cli_verify(args) -> int:
    """``workbench lottery verify DRAW.json --data DATA``: 0 when verified, 1 with the differences."""
    result = verify(args.draw, args.data)
    print(result.message())
    return 0 if result.ok else 1
