"""``workbench lottery draw`` and ``workbench lottery verify``."""
from __future__ import annotations

from .drawing import archive, draw
from .publication import publish
from .verification import verify


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
