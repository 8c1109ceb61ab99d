"""``workbench demo``: make the demo data, audit it, and serve the dashboards.

Each step runs when the capability behind it is installed in this version; the command says
what it did and what it skipped.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from .cli import main as cli


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def cli_demo(args) -> int:
    root = Path(args.out)
    data, run = root / "data", root / "run"
    if (data / "data_manifest.json").is_file():
        print(f"demo data already in {data} (delete it to make it anew)")
    else:
        rc = cli(["synth", "--scale", "demo", "--seed", "2024", "--out", str(data)])
        if rc:
            return rc
    rc = cli(["summary", str(data)])
    if rc:
        return rc
    if _available("workbench.audit"):
        rc = cli(["audit", str(data), "--out", str(run)])
        if rc:
            return rc
    if args.no_serve:
        return 0
    if _available("workbench.serve"):
        return cli(["serve", "--data", str(data), "--run", str(run)])
    print("dashboards: not in this version yet (workbench serve)")
    return 0
