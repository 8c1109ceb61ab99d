"""Benchmark: collusion rings on city-scale data, against building the graph without the filter.

    python -m bench.rings [--scale city] [--seed 7] [--data DATA] [--cap 300]

Steps, each in its own process so its peak memory is its own:
1. the data: ``--data``, else ``bench/out/<scale>-<seed>`` (made once, as ``bench.rules`` does);
2. ``RingAnalysis`` end to end — edge SQL, suspicious-edge filter, graph, Louvain, scoring and
   the other findings — with the time of each step (target: under a minute for a city);
3. the baseline, in the same run: every edge of the data into networkx (no suspicious-edge
   reduction) and Louvain on it, stopped after ``--cap`` seconds (then the ratio is a lower bound).
On synthetic data, the rank and member overlap of every planted ring are printed too, and
4. (``--extracts``) every planted ring looked for again, each in its own extract
   (:func:`workbench.extract.extract`): its institutions plus five ordinary ones, and its county
   (:func:`workbench.rings.planted_ring_extracts`), and its county's pharmacies alone — the rank
   and overlap there, and the times.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench._measure import finish, limits, run_child

OUT_NAME = "rings.json"


def worker_rings(data, seed, path):
    import workbench
    from workbench import rings

    t0 = time.perf_counter()
    with workbench.open(data, **limits()) as s:
        s.con.execute("SET enable_progress_bar = false")
        a = rings.RingAnalysis(s, seed=int(seed))
        r, sig = a.rings, a.signals
        seconds = time.perf_counter() - t0
        ev = rings.evaluate(r, s.df("SELECT * FROM truth")) if s.has("truth") else None
        finish(path, {
            "seconds": seconds, "timings": a.timings, "edges": a.edge_counts,
            "suspicious_edges": a.graph.number_of_edges(), "nodes": a.graph.number_of_nodes(),
            "communities": len(a.communities), "rings": len(r), "signals": sig.signal.value_counts().to_dict(),
            "evaluation": None if ev is None else ev.astype(str).values.tolist(),
        })


def worker_extracts(data, seed, path):
    """Each planted ring in the extract of its institutions plus five ordinary ones, in its county, and
    in its county's pharmacies alone (no visit to a doctor in the data)."""
    import shutil
    import tempfile
    from pathlib import Path

    import pandas as pd

    from workbench import rings
    from workbench.extract import extract

    data = Path(data)
    truth = pd.read_parquet(data / "truth.parquet")
    cases = rings.planted_ring_extracts(truth, pd.read_parquet(data / "medins.parquet"), pd.read_parquet(data / "dr.parquet"))
    rows, done = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-rings-") as tmp:
        for c in cases:
            for what, cut in (("institutions", {"institutions": c["institutions"]}), ("county", {"county": c["county"]}),
                              ("pharmacies", {"institutions": c["pharmacies"]})):
                key = (what, c["county"]) if what in ("county", "pharmacies") else (what, c["case_id"])
                if key not in done:  # one extract per county
                    out = Path(tmp) / f"{what}-{len(done)}"
                    t0 = time.perf_counter()
                    extract(data, out, **cut)
                    t1 = time.perf_counter()
                    found = rings.find_rings(out, seed=int(seed))
                    t2 = time.perf_counter()
                    done[key] = (rings.evaluate(found, truth), len(found), t1 - t0, t2 - t1)
                    shutil.rmtree(out)
                ev, n, t_ex, t_rings = done[key]
                got = ev[ev.case_id == c["case_id"]].iloc[0]
                rows.append([c["case_id"], what, None if pd.isna(got["rank"]) else int(got["rank"]), float(got.jaccard),
                             got.ring_id, n, round(t_ex, 1), round(t_rings, 1)])
    finish(path, {"rows": rows})


def worker_baseline(data, seed, path):
    """Every edge into networkx, then Louvain: what the filter saves."""
    import workbench
    from workbench import rings

    t0 = time.perf_counter()
    with workbench.open(data, **limits()) as s:
        s.con.execute("SET enable_progress_bar = false")
        e = rings.edges(s)
    t_edges = time.perf_counter() - t0
    g = rings.build_graph(e)
    t_graph = time.perf_counter() - t0
    comms = rings.communities(g, seed=int(seed))
    finish(path, {"seconds": time.perf_counter() - t0, "edges_s": t_edges, "graph_s": t_graph - t_edges,
                  "nodes": g.number_of_nodes(), "edges": g.number_of_edges(), "communities": len(comms)})


def ensure_data(scale, seed, data=None):
    from bench.rules import OUT, ensure_data as make

    if data:
        return make(scale, seed, data)
    if (OUT / f"{scale}-{seed}" / "data_manifest.json").is_file():
        return make(scale, seed)
    try:
        from workbench.synth import synthesize  # noqa: F401
    except ImportError:
        return None, None
    return make(scale, seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="city")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", default=None, help="use this data folder instead of bench/out/<scale>-<seed>")
    ap.add_argument("--ring-seed", type=int, default=2024, help="seed of the community detection")
    ap.add_argument("--cap", type=float, default=300, help="seconds the baseline may take before it is stopped")
    ap.add_argument("--extracts", action="store_true",
                    help="also look for every planted ring in its institutions' extract and in its county's")
    a = ap.parse_args(argv)
    data, made = ensure_data(a.scale, a.seed, a.data)
    if data is None:
        print(f"rings benchmark skipped: no {a.scale} data folder in bench/out and no generator (workbench.synth) to make one")
        return 0
    ours = run_child(["bench.rings", "rings", str(data), str(a.ring_seed)])
    try:
        base = run_child(["bench.rings", "baseline", str(data), str(a.ring_seed)], timeout=a.cap)
        base_s, capped = base["wall_s"], False
    except subprocess.TimeoutExpired:
        base, base_s, capped = None, a.cap, True
    rows = []
    if made:
        rows.append((f"synth {a.scale}", f"{made['wall_s']:.1f} s", f"{made['peak_rss_mb'] / 1024:.2f} GB", "", ""))
    t = ours["timings"]
    rows.append(("rings, end to end", f"{ours['wall_s']:.1f} s", f"{ours['peak_rss_mb'] / 1024:.2f} GB", "< 60 s",
                 f"{ours['rings']} rings from {ours['suspicious_edges']:,} suspicious edges of {sum(ours['edges'].values()):,}"))
    rows.append(("  of which", "", "", "", ", ".join(f"{k} {v:.1f} s" for k, v in t.items())))
    if capped:
        rows.append(("baseline: all edges, networkx Louvain", f"> {base_s:.0f} s (stopped)", "", "", ""))
    else:
        rows.append(("baseline: all edges, networkx Louvain", f"{base_s:.1f} s", f"{base['peak_rss_mb'] / 1024:.2f} GB", "",
                     f"{base['edges']:,} edges, {base['nodes']:,} nodes; edges {base['edges_s']:.1f} s, graph {base['graph_s']:.1f} s"))
    ratio = base_s / ours["wall_s"]
    rows.append(("speed-up of the filter", f"{'≥ ' if capped else ''}{ratio:.1f}×", "", "", ""))
    head = ("step", "time", "peak RSS", "target", "notes")
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    print(f"\nrings benchmark on {data}")
    for r in [head] + rows:
        print("  " + "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))
    if ours["evaluation"]:
        print("  planted rings (case, rank, ring, jaccard, planted, found, shared):")
        for row in ours["evaluation"]:
            print("    " + "  ".join(row))
    extracts = None
    if a.extracts and ours["evaluation"]:
        extracts = run_child(["bench.rings", "extracts", str(data), str(a.ring_seed)])
        whole = {row[0]: row[2] for row in ours["evaluation"]}
        print("  planted rings in extracts (case, extract, rank, jaccard, same ring as in the whole region, "
              "rings found, extract s, rings s):")
        for case, what, rank, jac, rid, n, t_ex, t_r in extracts["rows"]:
            print(f"    {case}  {what:12}  {rank}  {jac:.4f}  {'yes' if rid == whole.get(case) else 'no'}  {n}  {t_ex}  {t_r}")
    from bench.rules import OUT

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / OUT_NAME).write_text(json.dumps({"data": str(data), "ours": ours, "baseline": base, "capped": capped,
                                            "ratio": ratio, "rows": rows, "extracts": extracts}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("rings", "baseline", "extracts"):
        mode, args = sys.argv[1], sys.argv[2:]
        {"rings": worker_rings, "baseline": worker_baseline, "extracts": worker_extracts}[mode](args[0], args[1], args[2])
    else:
        sys.exit(main())
