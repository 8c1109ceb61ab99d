"""``workbench synth --scale … --seed … --out DATA``: a synthetic region as a data folder."""
from __future__ import annotations

from .generate import synthesize


def register(parser) -> None:
    """Declare the options of ``workbench synth`` on its parser (``workbench.cli`` assembles them)."""
    parser.add_argument("--scale", choices=["demo", "city", "province"], default="demo")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", required=True, metavar="DATA")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--force", action="store_true",
                        help="write into a non-empty --out, replacing only the files synth writes")


def cli_synth(args) -> int:
    """``workbench synth --scale … --seed … --out DATA [--no-progress] [--force]``."""
    manifest = synthesize(args.out, scale=args.scale, seed=args.seed, progress=not args.no_progress,
                          force=getattr(args, "force", False))
    t = manifest["tables"]
    truth = t.get("truth", {}).get("rows", 0)
    print(f"synthetic {args.scale} region (seed {args.seed}) in {args.out}: "
          f"{t['psn']['rows']:,} persons, {t['mdtrt']['rows']:,} visits, {t['fee']['rows']:,} fee lines, "
          f"{truth:,} planted case rows")
    return 0
