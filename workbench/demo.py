"""``workbench demo``: make the demo data, audit it, and serve the dashboards."""
from __future__ import annotations

from pathlib import Path

from .cli import main as cli


def register(s) -> None:
    """Declare the options of ``workbench demo`` on its parser (``workbench.cli`` assembles them)."""
    s.add_argument("--out", default="demo", help="folder for the demo data and run (default ./demo)")
    s.add_argument("--no-serve", action="store_true")


def cli_demo(args) -> int:
    root = Path(args.out)
    data, run = root / "data", root / "run"
    if (data / "data_manifest.json").is_file():
        print(f"demo data already in {data} (delete it to make it anew)")
    else:
        rc = cli(["synth", "--scale", "demo", "--seed", "2024", "--out", str(data)])
        if rc:
            return rc
    for step in (["summary", str(data)], ["audit", str(data), "--out", str(run)]):
        rc = cli(step)
        if rc:
            return rc
    if args.no_serve:
        return 0
    return cli(["serve", "--data", str(data), "--run", str(run)])
