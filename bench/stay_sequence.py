"""Benchmark: the stay sequence (``v_stay_sequence``) against the code before it, in the same run.

    python -m bench.stay_sequence --data DATA [--baseline REF] [--repeat 3] [--steps stays,rule,rule-in-audit]

``workbench stays`` and rule ``split_hospitalization`` read one stay sequence. Before
``v_stay_sequence`` it was the view ``v_stay`` over ``v_visit_fund``, which sums the settlements
of every visit; the new view sums only the inpatient visits'. Each step runs in a fresh process
(its own session, wall time and peak memory), alternating baseline and current code, ``--repeat``
times; the outputs of both must be identical (the step fails otherwise):

* ``stays``: ``workbench stays DATA --out …`` (window 15): time, and the CSV's SHA-256;
* ``rule``: ``split_hospitalization`` alone on a fresh session (``workbench audit --rules
  split_hospitalization``): time, and the findings' ids and amounts;
* ``rule-in-audit``: the same rule after the shared view ``v_visit_fund`` has been computed, as in
  a whole audit (where the baseline's ``v_stay`` reads it for free): the rule's own time.

The baseline is the code at ``--baseline`` (default: the commit before ``v_stay_sequence.sql``
was added), taken with ``git archive`` into ``bench/out/``; the current code is this working tree.
Results: ``bench/out/stay_sequence.json`` and a table on standard output.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
STEPS = ("stays", "rule", "rule-in-audit")
RULE = "split_hospitalization"


def _finish(path, result):
    import resource

    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    Path(path).write_text(json.dumps(result))


def _findings_digest(findings) -> str:
    rows = "\n".join(f"{r.finding_id} {r.amount_at_risk} {r.evidence}" for r in findings.itertuples())
    return hashlib.sha256(rows.encode()).hexdigest()


def worker(step, data, path):
    """One step in this process, with whichever ``workbench`` is first on the path."""
    import workbench

    limits = {"memory_limit": os.environ.get("BENCH_MEMORY_LIMIT", "3GB")}
    if step == "stays":
        from workbench.cli import main

        csv = Path(path).with_suffix(".csv")
        t0 = time.perf_counter()
        assert main(["stays", data, "--out", str(csv), "--memory-limit", limits["memory_limit"]]) == 0
        seconds = time.perf_counter() - t0
        digest = hashlib.sha256(csv.read_bytes()).hexdigest()
        csv.unlink()
        return _finish(path, {"seconds": seconds, "output": digest})
    from workbench.rules.duck import environment
    from workbench.rules.engine import run_rules
    from workbench.rules.loader import LIBRARY_DIR, load_rule

    # the two rule files only: the rest of the library is not measured (and may be mid-edit)
    library = {rid: load_rule(LIBRARY_DIR / f"{rid}.yaml") for rid in (RULE, "overlapping_stays")}
    t0 = time.perf_counter()
    with workbench.open(data, **limits) as s:
        if step == "rule-in-audit":
            # what an audit has done before this rule: v_visit_fund computed (for every rule reading
            # the visits); the views of the fee lines are left out, they do not touch the stays
            environment(s, [library["overlapping_stays"]])
            t0 = time.perf_counter()
        r = run_rules(s, [library[RULE]], progress=False, library=library)
        seconds = time.perf_counter() - t0
    return _finish(path, {"seconds": seconds, "output": _findings_digest(r.findings), "findings": len(r.findings),
                          "module": workbench.__file__})


def _baseline_ref() -> str:
    added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--",
                            "workbench/rules/views/v_stay_sequence.sql"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    if not added:
        raise SystemExit("v_stay_sequence.sql is not committed yet: pass --baseline REF")
    return added[-1] + "^"


def _export(ref: str) -> tuple:
    sha = subprocess.run(["git", "rev-parse", ref], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    dest = OUT / f"baseline-{sha[:10]}"
    if not (dest / "workbench").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "workbench"], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return sha, dest


def _child(root: Path, step: str, data: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False, dir=OUT) as f:
        out = Path(f.name)
    env = {**os.environ, "PYTHONPATH": str(root)}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "worker", step, data, str(out)],
                       cwd=root, env=env, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"step {step} failed under {root} ({r.returncode})")
    res = json.loads(out.read_text())
    out.unlink()
    res["wall_s"] = round(time.perf_counter() - t0, 2)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--baseline", default=None, help="git ref of the baseline code")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", default=",".join(STEPS))
    a = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    sha, base_root = _export(a.baseline or _baseline_ref())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    steps = [s for s in a.steps.split(",") if s]
    runs = {s: {"baseline": [], "current": []} for s in steps}
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    for i in range(a.repeat):
        for step in steps:
            for name, root in (("baseline", base_root), ("current", ROOT)) if i % 2 == 0 else (("current", ROOT), ("baseline", base_root)):
                res = _child(root, step, a.data)
                runs[step][name].append(res)
                print(f"{step:<14} {name:<8} {res['seconds']:6.2f}s  {res['peak_rss_mb']:7.0f} MB", file=sys.stderr)
    table, same = [], True
    for step in steps:
        b, c = runs[step]["baseline"], runs[step]["current"]
        outputs = {r["output"] for r in b + c}
        same &= len(outputs) == 1
        mb, mc = statistics.median(r["seconds"] for r in b), statistics.median(r["seconds"] for r in c)
        table.append({"step": step, "baseline_s": round(mb, 2), "current_s": round(mc, 2), "ratio": round(mc / mb, 2),
                      "baseline_all": [round(r["seconds"], 2) for r in b], "current_all": [round(r["seconds"], 2) for r in c],
                      "baseline_rss_mb": max(r["peak_rss_mb"] for r in b), "current_rss_mb": max(r["peak_rss_mb"] for r in c),
                      "identical_output": len(outputs) == 1})
    result = {"data": Path(a.data).name, "baseline": sha, "current": f"{head} + working tree", "started": started,
              "repeat": a.repeat, "load_average": os.getloadavg(), "steps": table}
    (OUT / "stay_sequence.json").write_text(json.dumps(result, indent=1))
    print(f"data {Path(a.data).name}; baseline {sha[:10]}, current {head[:10]} + working tree; median of {a.repeat}")
    print(f"{'step':<14} {'baseline':>9} {'current':>9} {'ratio':>6}  identical  (all runs: baseline / current)")
    for t in table:
        print(f"{t['step']:<14} {t['baseline_s']:8.2f}s {t['current_s']:8.2f}s {t['ratio']:6.2f}  {str(t['identical_output']):<9}  "
              f"{t['baseline_all']} / {t['current_all']}")
    if not same:
        raise SystemExit("outputs differ between baseline and current")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        here = Path(__file__).resolve().parent  # bench/ is not the code measured
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
        worker(*sys.argv[2:5])
    else:
        main()
