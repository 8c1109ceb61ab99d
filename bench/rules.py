"""Benchmark: every rule of the library on city-scale data, against a pandas baseline.

    python -m bench.rules [--scale city] [--seed 7] [--data DATA]

Steps, each in its own process so its peak memory is its own:
1. synth the data once (kept in ``bench/out/<scale>-<seed>``; its time is reported when made);
2. all rules on DuckDB: wall time and peak RSS (targets: ≤ 60 s, ≤ 4 GB on the 2-core machine);
3. five rules on DuckDB, then the same five in plain pandas (``bench/pandas_baseline.py``):
   the ratio of their times (target ≥ 20×), after checking both report the same findings.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench._measure import finish, limits, run_child

FIVE = ["split_hospitalization", "duplicate_billing", "price_over_cap", "frequent_purchase", "stock_mismatch"]
OUT = Path(__file__).resolve().parent / "out"


def worker_duckdb(data, rules, path):
    import workbench
    from workbench.rules import run_rules

    t0 = time.perf_counter()
    with workbench.open(data, **limits()) as s:
        res = run_rules(s, rules=rules or None, progress=False)
    f = res.findings
    keys = {}
    for rule in FIVE:
        col = {"frequent_purchase": "psn_no", "stock_mismatch": "fixmedins_code"}.get(rule, "mdtrt_id")
        keys[rule] = sorted(set(f.loc[f.rule_id == rule, col]))
    # the rule queries alone, without opening the data and computing the shared views
    # (views.MATERIALIZE) that every rule reads
    queries = sum(c["seconds"] for c in res.counts.values())
    finish(path, {"seconds": time.perf_counter() - t0, "queries_seconds": queries, "findings": len(f),
                  "per_rule": f.groupby("rule_id").size().to_dict(), "keys": keys})


def worker_pandas(data, path):
    from bench.pandas_baseline import BASELINES

    t0 = time.perf_counter()
    keys, secs = {}, {}
    for rule, (fn, _) in BASELINES.items():
        t = time.perf_counter()
        keys[rule] = sorted(fn(data))
        secs[rule] = round(time.perf_counter() - t, 2)
    finish(path, {"seconds": time.perf_counter() - t0, "keys": keys, "per_rule_seconds": secs})


def ensure_data(scale, seed, data=None):
    if data:
        return Path(data), None
    d = OUT / f"{scale}-{seed}"
    if (d / "data_manifest.json").is_file():
        return d, None
    OUT.mkdir(parents=True, exist_ok=True)
    res = run_child(["bench.rules", "synth", scale, str(seed), str(d)], timeout=4 * 3600)
    return d, res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="city")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", default=None, help="use this data folder instead of synthesising one")
    ap.add_argument("--skip-pandas", action="store_true")
    a = ap.parse_args(argv)
    data, synth = ensure_data(a.scale, a.seed, a.data)
    import workbench

    with workbench.open(data) as s:
        fee_rows = s.count("fee") if s.has("fee") else 0
    rows = []
    if synth:
        rows.append(("synth " + a.scale, f"{synth['wall_s']:.1f} s", f"{synth['peak_rss_mb'] / 1024:.2f} GB", "", ""))
    all_rules = run_child(["bench.rules", "duckdb", str(data), ""])
    rows.append(("all rules, DuckDB", f"{all_rules['wall_s']:.1f} s", f"{all_rules['peak_rss_mb'] / 1024:.2f} GB",
                 "≤ 60 s, ≤ 4 GB", f"{all_rules['findings']:,} findings"))
    five = run_child(["bench.rules", "duckdb", str(data), ",".join(FIVE)])
    rows.append(("5 rules, DuckDB", f"{five['wall_s']:.1f} s", f"{five['peak_rss_mb'] / 1024:.2f} GB", "", ""))
    agree = None
    if not a.skip_pandas:
        pdres = run_child(["bench.rules", "pandas", str(data)], timeout=4 * 3600)
        ratio = pdres["wall_s"] / five["wall_s"]
        agree = {r: pdres["keys"][r] == five["keys"][r] for r in FIVE}
        rows.append(("5 rules, pandas baseline", f"{pdres['wall_s']:.1f} s", f"{pdres['peak_rss_mb'] / 1024:.2f} GB",
                     "", "per rule: " + ", ".join(f"{k} {v}s" for k, v in pdres["per_rule_seconds"].items())))
        rows.append(("speed-up on the 5 rules", f"{ratio:.1f}×", "", "≥ 20×", "same findings: " + (
            "yes" if all(agree.values()) else ", ".join(f"{k}={v}" for k, v in agree.items()))))
    print(f"\nrule benchmark on {data} ({fee_rows:,} fee lines)")
    w = [max(len(str(r[i])) for r in rows + [("step", "time", "peak RSS", "target", "notes")]) for i in range(5)]
    for r in [("step", "time", "peak RSS", "target", "notes")] + rows:
        print("  " + "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))
    print("  per rule (DuckDB, all rules): " + ", ".join(f"{k} {v}" for k, v in sorted(all_rules["per_rule"].items())))
    OUT.mkdir(parents=True, exist_ok=True)  # --data on a fresh clone: nothing made bench/out yet
    (OUT / "rules.json").write_text(json.dumps({"data": str(data), "fee_rows": fee_rows, "rows": rows, "agree": agree}, indent=1))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("duckdb", "pandas", "synth"):
        mode, args = sys.argv[1], sys.argv[2:]
        if mode == "duckdb":
            worker_duckdb(args[0], [r for r in args[1].split(",") if r], args[2])
        elif mode == "pandas":
            worker_pandas(args[0], args[1])
        else:
            from workbench.synth import synthesize

            synthesize(args[2], scale=args[0], seed=int(args[1]), progress=True)
            finish(args[3], {})
    else:
        sys.exit(main())
