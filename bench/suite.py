"""``python -m bench``: the whole benchmark suite, one table.

    python -m bench [--scales demo,city] [--skip-dashboards] [--skip-baselines] [--steps ...]

For every scale (``demo`` seed 2024, ``city`` and ``province`` seed 7; data kept in
``bench/out/<scale>-<seed>``, made when missing) the steps below run, **each in its own child
process** (:func:`bench._measure.run_child`: wall time measured here, peak RSS the child's own):

* ``synth``      the generator: fee lines per second and peak RSS; baseline: the demo synthesis,
                 run in this suite (into a scratch folder when the demo data already exist);
* ``audit``      every rule of the library, as ``workbench audit`` does it (findings, evaluation
                 and manifest written to ``<data>-run``), with a DuckDB ``memory_limit`` (3 GB,
                 province 9 GB) and a ``temp_directory`` under ``bench/out`` so DuckDB spills
                 instead of growing; targets city ≤ 60 s and ≤ 4 GB, province ≤ 15 min and
                 ≤ 12 GB. No pandas equivalent of the whole library is sensible, so the baseline
                 is the demo audit of this run, scaled linearly per fee line;
* ``pandas``     five rules on DuckDB against the same five in plain pandas
                 (``bench/pandas_baseline.py``), after checking they find the same keys; target
                 ≥ 20× (not at province scale: the pandas baseline does not fit in memory);
* ``providers``  ``profile_providers`` (what ``workbench providers`` runs): time and RSS;
                 baseline the demo run, scaled per fee line;
* ``rings``      ``RingAnalysis`` end to end against every edge into networkx + Louvain
                 (``bench/rings.py``; the baseline is stopped after 300 s, then the ratio is a
                 lower bound; target < 60 s on a city);
* ``stays``      readmission pairs and their CSV (what ``workbench stays`` does) against the same
                 pairs in plain pandas;
* ``dashboards`` ``bench/dashboards.py`` in Chromium: briefing visible (target ≤ 2 s on a city)
                 against an almost empty Voilà page, and a filter change in the findings queue
                 (target ≤ 100 ms) against the same filter inside the kernel and without the
                 page's canvas flush (demo and city only).

The table is printed and written to ``bench/out/results.md`` and ``bench/out/results.json``
after every step (so a long province run leaves its figures so far).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._measure import finish, run_child

OUT = Path(__file__).resolve().parent / "out"
SEEDS = {"demo": 2024, "city": 7, "province": 7}
MEMORY = {"demo": "3GB", "city": "3GB", "province": "9GB"}
STEPS = ["synth", "audit", "pandas", "providers", "rings", "stays", "dashboards"]
HOUR = 3600
GB = 1024.0

# targets: (seconds, MB) by step and scale; None = no target stated
AUDIT_TARGET = {"city": (60, 4 * 1024), "province": (15 * 60, 12 * 1024)}
RINGS_TARGET_S = 60


def data_dir(scale) -> Path:
    return OUT / f"{scale}-{SEEDS[scale]}"


def tmp_dir(scale) -> Path:
    d = OUT / "duckdb-tmp" / scale
    d.mkdir(parents=True, exist_ok=True)
    return d


def _open(data, scale):
    import workbench

    s = workbench.open(data, memory_limit=MEMORY[scale], temp_directory=str(tmp_dir(scale)))
    s.con.execute("SET enable_progress_bar = false")
    return s


# ----------------------------------------------------------------------------- workers (children)

def worker_audit(data, scale, path):
    """``workbench audit DATA --out DATA-run`` with the memory limit of the scale."""
    from workbench import audit as _audit

    run = Path(data).with_name(Path(data).name + "-run")
    t0 = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        # the province's rules report one line each on standard error as they finish, so a run
        # stopped early still shows where the time went
        m = _audit.audit(str(data), str(run), progress=(scale == "province"), echo=devnull,
                         memory_limit=MEMORY[scale], temp_directory=str(tmp_dir(scale)))
    seconds = time.perf_counter() - t0
    per_rule = {rid: r["seconds"] for rid, r in m["rules"].items() if r["seconds"] is not None}
    from bench.synth import fee_lines

    finish(path, {"seconds": seconds, "rules_seconds": sum(per_rule.values()), "per_rule_seconds": per_rule,
                  "findings": m["counts"]["findings"], "rules_run": m["counts"]["rules_run"],
                  "rules_skipped": m["counts"]["rules_skipped"], "fee_lines": fee_lines(data), "run": str(run)})


def worker_providers(data, scale, path):
    from workbench.providers.analysis import profile_providers

    t0 = time.perf_counter()
    with _open(data, scale) as s:
        r = profile_providers(s)
        out = OUT / f"providers-{scale}.csv"
        r.to_csv(out)
        n, flagged = len(r), int(r.institutions.outlier.sum())
    finish(path, {"seconds": time.perf_counter() - t0, "institutions": n, "outliers": flagged})


def _keys_hash(values) -> str:
    import hashlib

    return hashlib.sha256("\n".join(sorted(map(str, values))).encode()).hexdigest()[:16]


def worker_stays(data, scale, path):
    from workbench import stays

    t0 = time.perf_counter()
    with _open(data, scale) as s:
        pairs = stays.readmission_pairs(s, 15)
        stays.write_pairs_csv(pairs, OUT / f"stays-{scale}.csv")
    finish(path, {"seconds": time.perf_counter() - t0, "pairs": len(pairs),
                  "keys_hash": _keys_hash(pairs.second_mdtrt_id)})


def worker_stays_pandas(data, path, window_days=15):
    """The same readmission pairs in plain pandas (as a notebook user would), written to CSV."""
    import pandas as pd

    from bench.pandas_baseline import _read, previous_stay

    t0 = time.perf_counter()
    m = _read(data, "mdtrt", ["mdtrt_id", "psn_no", "fixmedins_code", "med_type", "begntime", "endtime", "dise_codg"])
    m = m[m.med_type == "21"].sort_values(["psn_no", "fixmedins_code", "begntime", "endtime", "mdtrt_id"])
    st = _read(data, "setl", ["mdtrt_id", "medfee_sumamt", "hifp_pay"])
    money = st.groupby("mdtrt_id", as_index=False)[["medfee_sumamt", "hifp_pay"]].sum()
    m = m.merge(money, on="mdtrt_id", how="left")
    m = previous_stay(m, ["psn_no", "fixmedins_code"]).rename(columns={
        "mdtrt_id_prev": "first_mdtrt_id", "endtime_prev": "first_end", "dise_codg_prev": "first_dise_codg",
        "medfee_sumamt_prev": "first_medfee_sumamt"})
    m["gap_days"] = (m.begntime.dt.normalize() - m.first_end.dt.normalize()).dt.days
    p = m[(m.gap_days >= 0) & (m.gap_days <= window_days)]
    p = p.rename(columns={"mdtrt_id": "second_mdtrt_id", "dise_codg": "second_dise_codg",
                          "medfee_sumamt": "second_medfee_sumamt"})
    p = p.sort_values(["fixmedins_code", "psn_no", "begntime", "second_mdtrt_id"])
    cols = ["psn_no", "fixmedins_code", "first_mdtrt_id", "second_mdtrt_id", "gap_days", "first_dise_codg",
            "second_dise_codg", "first_medfee_sumamt", "second_medfee_sumamt"]
    p[cols].to_csv(OUT / "stays-pandas.csv", index=False)
    finish(path, {"seconds": time.perf_counter() - t0, "pairs": len(p),
                  "keys_hash": _keys_hash(p.second_mdtrt_id)})


def worker_dashboards(scale, path):
    from bench import dashboards

    res = dashboards.measure(scale, repeat=3)
    finish(path, res)


# ----------------------------------------------------------------------------- the table

class Table:
    HEAD = ["step", "scale", "figure", "target", "baseline (same run)", "ratio", "met?", "notes"]

    def __init__(self, args):
        self.rows, self.extra, self.args = [], {}, args
        self.started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())

    def add(self, step, scale, figure, target="—", baseline="—", ratio="—", met="n/a", notes=""):
        self.rows.append([step, scale, figure, target, baseline, ratio, met, notes])
        self.save()

    def text(self) -> str:
        w = [max(len(str(r[i])) for r in self.rows + [self.HEAD]) for i in range(len(self.HEAD) - 1)]
        lines = ["  ".join(str(c).ljust(w[i]) for i, c in enumerate(r[:-1])) + "  " + r[-1]
                 for r in [self.HEAD] + self.rows]
        return "\n".join(lines)

    def markdown(self) -> str:
        def esc(c):
            return str(c).replace("|", "\\|")
        lines = ["| " + " | ".join(self.HEAD) + " |", "|" + "---|" * len(self.HEAD)]
        lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in self.rows]
        return "\n".join(lines)

    def save(self):
        OUT.mkdir(parents=True, exist_ok=True)
        head = (f"# Benchmark results\n\n`python -m bench {' '.join(self.args.argv)}` started {self.started}; "
                f"{os.cpu_count()} cores, {_ram_gb():.0f} GB RAM, Python {platform.python_version()}, "
                f"duckdb {_duckdb_version()}.\n\n")
        body = self.markdown()
        ex = ""
        for k, v in self.extra.items():
            if k.startswith("per_rule:"):
                top = sorted(v.items(), key=lambda kv: -kv[1])
                ex += f"\n\n**{k[9:]} audit, per rule (s), slowest first:** " + ", ".join(f"{r} {s:.2f}" for r, s in top)
        (OUT / "results.md").write_text(head + body + ex + "\n")
        (OUT / "results.json").write_text(json.dumps({"started": self.started, "argv": self.args.argv,
                                                      "machine": machine(), "columns": self.HEAD, "rows": self.rows,
                                                      "details": self.extra}, indent=1, default=str))


def _ram_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    except (ValueError, OSError):
        return float("nan")


def _duckdb_version() -> str:
    import duckdb

    return duckdb.__version__


def machine() -> dict:
    return {"cores": os.cpu_count(), "ram_gb": round(_ram_gb(), 1), "python": platform.python_version(),
            "duckdb": _duckdb_version(), "platform": platform.platform()}


def _s(x) -> str:
    return f"{x:.1f} s" if x < 600 else f"{x:.0f} s ({x / 60:.1f} min)"


def _gb(mb) -> str:
    return f"{mb / GB:.2f} GB"


def _met(ok) -> str:
    return "n/a" if ok is None else ("yes" if ok else "NO")


def _child(table, step, scale, args, timeout=HOUR):
    """run_child, but a failed or timed-out step becomes a row instead of ending the suite.

    The child's DuckDB gets the memory limit of the scale and spills under ``bench/out``.
    """
    if scale in MEMORY:
        os.environ["BENCH_MEMORY_LIMIT"] = MEMORY[scale]
        os.environ["BENCH_TEMP_DIR"] = str(tmp_dir(scale))
    print(f"[bench {time.strftime('%H:%M:%S')}] {step} {scale} ...", file=sys.stderr, flush=True)
    try:
        res = run_child(args, timeout=timeout)
        print(f"[bench {time.strftime('%H:%M:%S')}] {step} {scale}: {res.get('wall_s')} s, "
              f"{res.get('peak_rss_mb')} MB", file=sys.stderr, flush=True)
        return res
    except subprocess.TimeoutExpired:
        table.add(step, scale, f"stopped after {timeout:.0f} s", met="NO", notes="timed out")
    except RuntimeError as e:
        table.add(step, scale, "failed", met="NO", notes=str(e))
    return None


# ----------------------------------------------------------------------------- steps

class Suite:
    def __init__(self, args):
        self.a = args
        self.t = Table(args)
        self.base = {}  # demo figures measured in this run (baselines)

    # -- data
    def synth(self, scale):
        from bench.synth import fee_lines, sidecar

        d = data_dir(scale)
        OUT.mkdir(parents=True, exist_ok=True)
        fresh = not (d / "data_manifest.json").is_file()
        if fresh:
            res = _child(self.t, "synth", scale, ["bench.synth", scale, str(SEEDS[scale]), str(d)], timeout=4 * HOUR)
            if res is None:
                return False
            when = "this run"
        else:
            side = sidecar(d)
            res = json.loads(side.read_text()) if side.is_file() else None
            when = f"when the data were made ({res['measured']})" if res else None
        if scale == "demo":
            if fresh:
                self.base["synth"] = res
            else:  # measured again in this run, into a scratch folder (1-5 s)
                scratch = OUT / ".synth-baseline" / "demo-2024"
                shutil.rmtree(scratch, ignore_errors=True)
                b = _child(self.t, "synth", "demo", ["bench.synth", "demo", "2024", str(scratch)])
                shutil.rmtree(scratch.parent, ignore_errors=True)
                self.base["synth"] = b
                if b:
                    res, when = b, "this run (into a scratch folder; the demo data were kept)"
        if "synth" not in self.base and self.a.baseline_synth:
            scratch = OUT / ".synth-baseline" / "demo-2024"
            shutil.rmtree(scratch, ignore_errors=True)
            self.base["synth"] = _child(self.t, "synth", "demo", ["bench.synth", "demo", "2024", str(scratch)])
            shutil.rmtree(scratch.parent, ignore_errors=True)
        if res is None:
            self.t.add("synth", scale, f"{fee_lines(d):,} fee lines", notes="data present, no figures kept of their making")
            return True
        b = self.base.get("synth") if scale != "demo" else None
        base_txt = f"demo {b['fee_lines_per_s']:,.0f} lines/s" if b else "—"
        ratio = f"{res['fee_lines_per_s'] / b['fee_lines_per_s']:.2f}× demo's rate" if b else "—"
        self.t.add("synth throughput", scale, f"{res['fee_lines_per_s']:,.0f} fee lines/s", "—", base_txt, ratio, "n/a",
                   f"{res['fee_lines']:,} fee lines in {_s(res['seconds'])}; measured {when}")
        self.t.add("synth peak RSS", scale, _gb(res["peak_rss_mb"]), "—",
                   _gb(b["peak_rss_mb"]) + " (demo)" if b else "—",
                   f"{res['peak_rss_mb'] / b['peak_rss_mb']:.1f}× demo's" if b else "—", "n/a",
                   "peak of the whole run: the chunks hold one chunk each, the final stock-ledger step over the "
                   "whole region is the peak at province scale (docs/synth.md)" if scale != "demo" else "")
        return True

    # -- audit
    def _demo_audit(self):
        if "audit" not in self.base and (data_dir("demo") / "data_manifest.json").is_file():
            self.base["audit"] = _child(self.t, "audit", "demo", ["bench.suite", "audit", str(data_dir("demo")), "demo"])
        return self.base.get("audit")

    def audit(self, scale):
        d = data_dir(scale)
        if scale == "demo":
            res = self._demo_audit()
        else:
            b = self._demo_audit() if not self.a.skip_baselines else None
            res = _child(self.t, "audit", scale, ["bench.suite", "audit", str(d), scale], timeout=3 * HOUR)
        if res is None:
            return
        self.t.extra[f"per_rule:{scale}"] = res["per_rule_seconds"]
        self.t.extra[f"audit:{scale}"] = res
        b = self.base.get("audit") if scale != "demo" else None
        tgt = AUDIT_TARGET.get(scale)
        slow = max(res["per_rule_seconds"].items(), key=lambda kv: kv[1])
        notes = (f"{res['rules_run']} rules ({res['rules_skipped']} skipped), {res['findings']:,} findings, "
                 f"{res['fee_lines']:,} fee lines; rules {res['rules_seconds']:.1f} s of it, slowest {slow[0]} "
                 f"{slow[1]:.1f} s; memory_limit {MEMORY[scale]}")
        if b:
            proj = b["wall_s"] / b["fee_lines"] * res["fee_lines"]
            base_txt = f"demo {b['wall_s']:.1f} s × {res['fee_lines'] / b['fee_lines']:.0f} (linear per fee line) = {_s(proj)}"
            ratio = f"{res['wall_s'] / proj:.2f}× of linear"
            notes += "; no pandas equivalent of the whole library, so the baseline is the demo audit of this run scaled per fee line (ratio < 1: better than linear)"
        else:
            base_txt, ratio = "—", "—"
        self.t.add("audit, all rules: time", scale, _s(res["wall_s"]), f"≤ {_s(tgt[0])}" if tgt else "—", base_txt, ratio,
                   _met(res["wall_s"] <= tgt[0] if tgt else None), notes)
        self.t.add("audit, all rules: peak RSS", scale, _gb(res["peak_rss_mb"]), f"≤ {_gb(tgt[1])}" if tgt else "—",
                   _gb(b["peak_rss_mb"]) + " (demo)" if b else "—",
                   f"{res['peak_rss_mb'] / b['peak_rss_mb']:.1f}× demo's" if b else "—",
                   _met(res["peak_rss_mb"] <= tgt[1] if tgt else None), "")

    # -- five rules vs pandas
    def pandas(self, scale):
        from bench.rules import FIVE

        if scale == "province":
            self.t.add("5 rules vs pandas", scale, "not run", "≥ 20×", notes="the pandas baseline reads whole tables (≥ 200 M fee lines) into memory: > 24 GB")
            return
        d = data_dir(scale)
        five = _child(self.t, "5 rules DuckDB", scale, ["bench.rules", "duckdb", str(d), ",".join(FIVE)])
        if five is None:
            return
        if self.a.skip_baselines:
            self.t.add("5 rules, DuckDB", scale, _s(five["seconds"]), "≥ 20× pandas", notes="--skip-baselines")
            return
        pdres = _child(self.t, "5 rules pandas", scale, ["bench.rules", "pandas", str(d)], timeout=2 * HOUR)
        if pdres is None:
            return
        agree = {r: pdres["keys"][r] == five["keys"][r] for r in FIVE}
        ratio = pdres["seconds"] / five["seconds"]
        self.t.extra[f"pandas:{scale}"] = {"duckdb_s": five["seconds"], "pandas_s": pdres["seconds"],
                                           "pandas_per_rule_s": pdres["per_rule_seconds"], "agree": agree,
                                           "duckdb_rss_mb": five["peak_rss_mb"], "pandas_rss_mb": pdres["peak_rss_mb"]}
        self.t.add("5 rules: DuckDB vs pandas", scale, f"{_s(five['seconds'])} ({_gb(five['peak_rss_mb'])})", "≥ 20×",
                   f"pandas {_s(pdres['seconds'])} ({_gb(pdres['peak_rss_mb'])})", f"{ratio:.1f}× faster",
                   _met(ratio >= 20),
                   "times inside each child (open + shared views + queries, no interpreter start); same findings: "
                   + ("yes" if all(agree.values()) else ", ".join(f"{k}={v}" for k, v in agree.items()))
                   + "; pandas per rule: " + ", ".join(f"{k} {v}s" for k, v in pdres["per_rule_seconds"].items()))
        q = five.get("queries_seconds")
        if q:
            self.t.extra[f"pandas:{scale}"]["duckdb_queries_s"] = q
            self.t.add("5 rules: DuckDB queries alone vs pandas", scale, _s(q), "—",
                       f"pandas {_s(pdres['seconds'])}", f"{pdres['seconds'] / q:.1f}× faster", "n/a",
                       f"the five rule queries without opening the data and building the shared views "
                       f"({_s(five['seconds'] - q)}), which every rule of an audit shares; pandas recomputes its "
                       "joins in every rule")

    # -- providers
    def providers(self, scale):
        d = data_dir(scale)
        if scale != "demo" and not self.a.skip_baselines and "providers" not in self.base:
            self.base["providers"] = _child(self.t, "providers", "demo", ["bench.suite", "providers", str(data_dir("demo")), "demo"])
        res = _child(self.t, "providers", scale, ["bench.suite", "providers", str(d), scale], timeout=2 * HOUR)
        if res is None:
            return
        if scale == "demo":
            self.base["providers"] = res
        b = self.base.get("providers") if scale != "demo" else None
        from bench.synth import fee_lines

        n, nb = fee_lines(d), fee_lines(data_dir("demo"))
        if b:
            proj = b["wall_s"] / nb * n
            base_txt, ratio = f"demo {b['wall_s']:.1f} s × {n / nb:.0f} = {_s(proj)}", f"{res['wall_s'] / proj:.2f}× of linear"
        else:
            base_txt, ratio = "—", "—"
        self.t.add("providers scoring: time", scale, _s(res["wall_s"]), "—", base_txt, ratio, "n/a",
                   f"{res['institutions']:,} institutions, {res['outliers']} outliers; profile_providers + CSV, memory_limit {MEMORY[scale]}")
        self.t.add("providers scoring: peak RSS", scale, _gb(res["peak_rss_mb"]), "—",
                   _gb(b["peak_rss_mb"]) + " (demo)" if b else "—",
                   f"{res['peak_rss_mb'] / b['peak_rss_mb']:.1f}× demo's" if b else "—", "n/a", "")

    # -- rings
    def rings(self, scale):
        d = data_dir(scale)
        ours = _child(self.t, "rings", scale, ["bench.rings", "rings", str(d), "2024"], timeout=2 * HOUR)
        if ours is None:
            return
        base, capped = None, False
        if self.a.skip_baselines or scale == "province":
            base_txt, ratio = ("—", "—")
            note_b = "baseline not run (" + ("--skip-baselines" if self.a.skip_baselines else "province: every edge would not fit the 300 s cap") + ")"
        else:
            try:
                print(f"[bench {time.strftime('%H:%M:%S')}] rings baseline {scale} ...", file=sys.stderr, flush=True)
                base = run_child(["bench.rings", "baseline", str(d), "2024"], timeout=self.a.rings_cap)
                base_s = base["wall_s"]
            except subprocess.TimeoutExpired:
                base_s, capped = self.a.rings_cap, True
            base_txt = (f"all edges + Louvain: > {base_s:.0f} s (stopped)" if capped else
                        f"all edges + Louvain: {_s(base_s)} ({base['edges']:,} edges)")
            ratio = f"{'≥ ' if capped else ''}{base_s / ours['wall_s']:.1f}× faster"
            note_b = ""
        tgt = RINGS_TARGET_S if scale == "city" else None  # the target is stated for a city
        self.t.extra[f"rings:{scale}"] = {"ours": ours, "baseline": base, "capped": capped}
        self.t.add("rings: time", scale, _s(ours["wall_s"]), f"< {RINGS_TARGET_S} s" if tgt else "—", base_txt, ratio,
                   _met(ours["wall_s"] < tgt if tgt else None),
                   f"{ours['rings']} rings from {ours['suspicious_edges']:,} suspicious edges of {sum(ours['edges'].values()):,}; "
                   + ", ".join(f"{k} {v:.1f} s" for k, v in ours["timings"].items()) + (f"; {note_b}" if note_b else "")
                   + ("; the < 60 s target is stated for a city" if scale == "province" else ""))
        self.t.add("rings: peak RSS", scale, _gb(ours["peak_rss_mb"]), "—",
                   _gb(base["peak_rss_mb"]) + " (baseline)" if base else "—", "—", "n/a", "")

    # -- stays
    def stays(self, scale):
        d = data_dir(scale)
        res = _child(self.t, "stays", scale, ["bench.suite", "stays", str(d), scale], timeout=2 * HOUR)
        if res is None:
            return
        base, note = None, ""
        if self.a.skip_baselines:
            note = "baseline not run (--skip-baselines)"
        elif scale == "province":
            note = "pandas baseline not run at province scale (40 M visits as Python strings)"
        else:
            base = _child(self.t, "stays pandas", scale, ["bench.suite", "stays-pandas", str(d)], timeout=2 * HOUR)
        if base:
            same = base["pairs"] == res["pairs"] and base["keys_hash"] == res["keys_hash"]
            base_txt = f"pandas {_s(base['seconds'])} ({_gb(base['peak_rss_mb'])})"
            ratio = f"{base['seconds'] / res['seconds']:.1f}× faster"
            note = "same pairs as pandas: " + ("yes" if same else f"NO ({res['pairs']:,} vs {base['pairs']:,})")
        else:
            base_txt, ratio = "—", "—"
        self.t.add("stays (readmission pairs): time", scale, f"{_s(res['seconds'])} ({_gb(res['peak_rss_mb'])})", "—",
                   base_txt, ratio, "n/a",
                   f"{res['pairs']:,} pairs within 15 days; readmission_pairs + CSV, times inside the children; {note}")

    # -- dashboards
    def dashboards(self, scale):
        from bench.dashboards import TARGETS

        if scale == "province":
            self.t.add("dashboards", scale, "not run", notes="bench/dashboards.py measures demo and city data only")
            return
        if shutil.which("chromium") is None:
            self.t.add("dashboards", scale, "not run", notes="no Chromium (bash scripts/browser-deps.sh)")
            return
        res = _child(self.t, "dashboards", scale, ["bench.suite", "dashboards", scale], timeout=HOUR)
        if res is None:
            return
        if "skipped" in res:
            self.t.add("dashboards", scale, "not run", notes=res["skipped"])
            return
        med = statistics.median
        self.t.extra[f"dashboards:{scale}"] = res
        br, bl = med(res["briefing_s"]), med(res["baseline_s"])
        tgt_applies = scale == "city"
        self.t.add("dashboard: briefing visible", scale, f"{br:.2f} s (min {min(res['briefing_s']):.2f})",
                   f"≤ {TARGETS['briefing_s']:.0f} s", f"empty Voilà page {bl:.2f} s", f"{br / bl:.1f}× an empty page",
                   _met(br <= TARGETS["briefing_s"]),
                   f"median of 3 page loads; findings queue page {res['findings_page_s']:.2f} s"
                   + ("" if tgt_applies else "; target stated for city data"))
        fm, km = med(res["filter_ms"]), res["kernel_filter_ms"]
        self.t.add("dashboard: filter latency", scale, f"{fm:.0f} ms (min {min(res['filter_ms']):.0f})",
                   f"≤ {TARGETS['filter_ms']:.0f} ms", f"same filter in the kernel {km:.1f} ms",
                   f"{fm / km:.0f}× the kernel's" if km else "—", _met(fm <= TARGETS["filter_ms"]),
                   f"{res['findings']:,} findings in the queue (load {res['queue_load_s']:.1f} s); timed in the page, "
                   f"change event → summary and grid painted; back to back {med(res['filter_back_to_back_ms']):.0f} ms; "
                   f"without the page's canvas flush {med(res['filter_plain_canvas_ms']):.0f} ms")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="demo,city", help="comma-separated: demo, city, province (province takes ~40 min)")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    ap.add_argument("--skip-dashboards", action="store_true")
    ap.add_argument("--skip-baselines", action="store_true", help="no pandas / networkx / demo baselines")
    ap.add_argument("--rings-cap", type=float, default=300, help="seconds the rings baseline may take")
    a = ap.parse_args(argv)
    a.argv = argv
    a.baseline_synth = not a.skip_baselines
    scales = [s.strip() for s in a.scales.split(",") if s.strip()]
    bad = [s for s in scales if s not in SEEDS]
    steps = [s.strip() for s in a.steps.split(",") if s.strip()]
    if bad or any(s not in STEPS for s in steps):
        ap.error(f"unknown scale or step: {', '.join(bad + [s for s in steps if s not in STEPS])}")
    if a.skip_dashboards and "dashboards" in steps:
        steps.remove("dashboards")
    suite = Suite(a)
    if "demo" not in scales and not a.skip_baselines:  # the demo data serve as baselines
        if not suite.synth("demo"):
            return 1
    for scale in scales:
        if not suite.synth(scale):
            continue
        for step in steps:
            if step != "synth":
                getattr(suite, step)(scale)
    print()
    print(suite.t.text())
    print(f"\nwritten to {OUT / 'results.md'} and {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "audit":
        worker_audit(*sys.argv[2:5])
    elif mode == "providers":
        worker_providers(*sys.argv[2:5])
    elif mode == "stays":
        worker_stays(*sys.argv[2:5])
    elif mode == "stays-pandas":
        worker_stays_pandas(*sys.argv[2:4])
    elif mode == "dashboards":
        worker_dashboards(*sys.argv[2:4])
    else:
        sys.exit(main())
