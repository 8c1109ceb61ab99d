"""Benchmark: inspection priority and risk score against real fraud labels, beside size.

    .venv/bin/python -m bench.providers_cms [--data DIR] [--seeds 2024,7,11] [--halves 300] [--no-synth]

1. the real labelled claims: ``--data`` (default ``../shared/data/cms-dev``, CMS layout,
   ``*.csv.gz``) gunzipped into a temporary folder, imported with
   ``workbench import FOLDER --format cms --out DATA``, profiled with ``workbench providers``;
   ROC-AUC against ``PotentialFraud`` of ``priority``, ``risk_score``, the number of claims and
   the money paid (``InscClaimAmtReimbursed``, the fund's share: ``hifp_total``); and, because
   the issue is judged on the other half of the providers, the margin of ``priority`` over the
   better size ranking on ``--halves`` random halves of the providers (scored once on all of
   them, as the held-back half is scored on the whole claim set): mean, 5th and 95th
   percentile, and the share of halves where it reaches +0.01;
2. the synthetic demo region of each ``--seeds`` (``workbench synth --scale demo``): ROC-AUC of
   ``priority`` and ``risk_score`` (and both size rankings) against ``truth.parquet``.
The scores come from :func:`workbench.providers.evaluate`. Output: one JSON object, printed and
written to ``bench/out/providers_cms.json``.
"""
from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cms-dev"
OUT = ROOT / "bench" / "out" / "providers_cms.json"


def _figures(result, ev: dict) -> dict:
    return {"institutions": ev["institutions"], "positives": ev["positives"],
            "auc_priority": round(ev["auc_priority"], 4), "auc_risk_score": round(ev["auc"], 4),
            "auc_claims": round(ev["auc_size"], 4),
            "auc_money": None if ev["auc_money"] is None else round(ev["auc_money"], 4),
            "auc_by_detector": {k: round(v, 4) for k, v in ev["auc_by_detector"].items()},
            "scored": list(result.scored)}


def half_margins(result, halves: int = 300, seed: int = 0) -> dict:
    """``priority`` ROC-AUC minus the better of claims and money on ``halves`` random halves of the
    labelled institutions (seeded), summarised; None without labels."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from workbench.providers.evaluate import find_labels, read_labels

    inst = result.institutions
    labels = find_labels(result.session.folder)
    if labels is None:
        return None
    y = inst.fixmedins_code.isin(set(read_labels(labels).fixmedins_code)).to_numpy()
    priority = inst.priority.to_numpy(dtype=float)
    money = inst.hifp_total.astype(float).fillna(0.0).to_numpy()
    claims = inst.visits.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    margins = []
    for _ in range(halves):
        h = rng.permutation(len(inst))[: len(inst) // 2]
        if y[h].all() or not y[h].any():
            continue
        best = max(roc_auc_score(y[h], money[h]), roc_auc_score(y[h], claims[h]))
        margins.append(roc_auc_score(y[h], priority[h]) - best)
    m = np.array(margins)
    return {"halves": len(m), "seed": seed, "mean": round(float(m.mean()), 4), "p5": round(float(np.percentile(m, 5)), 4),
            "p95": round(float(np.percentile(m, 95)), 4), "share_at_least_0.01": round(float((m >= 0.01).mean()), 3)}


def _providers(data: Path, csv_out: Path, halves: int = 0) -> dict:
    """``workbench providers`` as a user runs it, then the evaluation of the same result."""
    import workbench
    from workbench import providers
    from workbench.cli import main

    t0 = time.perf_counter()
    if main(["providers", str(data), "--out", str(csv_out)]) != 0:
        raise SystemExit(f"workbench providers {data} failed")
    seconds = time.perf_counter() - t0
    with workbench.open(data) as s:
        result = providers.profile_providers(s)
        out = _figures(result, providers.evaluate(result))
        if halves:
            out["priority_margin_on_random_halves"] = half_margins(result, halves)
    return {**out, "providers_seconds": round(seconds, 2)}


def cms(src: Path, work: Path, halves: int = 300) -> dict:
    from workbench.cli import main

    raw = work / "cms_raw"
    raw.mkdir()
    files = sorted(src.glob("*.csv.gz"))
    if not files:
        raise SystemExit(f"no *.csv.gz in {src}")
    for f in files:
        with gzip.open(f) as a, open(raw / f.name[:-3], "wb") as b:
            shutil.copyfileobj(a, b)
    data = work / "cms_data"
    t0 = time.perf_counter()
    if main(["import", str(raw), "--format", "cms", "--out", str(data)]) != 0:
        raise SystemExit(f"workbench import {raw} --format cms failed")
    return {"source": src.name, "import_seconds": round(time.perf_counter() - t0, 2),
            **_providers(data, work / "cms_providers.csv", halves)}


def synth(seed: int, work: Path) -> dict:
    from workbench.cli import main

    data = work / f"demo_{seed}"
    if main(["synth", "--scale", "demo", "--seed", str(seed), "--out", str(data), "--no-progress"]) != 0:
        raise SystemExit("workbench synth failed")
    return {"seed": seed, **_providers(data, work / f"demo_{seed}.csv")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.providers_cms", description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of CMS-layout *.csv.gz (default: %(default)s)")
    ap.add_argument("--seeds", default="2024,7,11", help="synthetic demo seeds, comma-separated (default: %(default)s)")
    ap.add_argument("--halves", type=int, default=300, help="random halves of the real providers for the margin (default: %(default)s; 0: none)")
    ap.add_argument("--no-synth", action="store_true", help="the real claims only")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-providers-") as tmp:
        work = Path(tmp)
        report = {"cms": cms(args.data.resolve(), work, args.halves)}
        if not args.no_synth:
            report["synth_demo"] = [synth(int(s), work) for s in args.seeds.split(",") if s.strip()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
    print(f"\n-> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
