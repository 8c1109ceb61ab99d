"""Where each rule's time goes: SQL translation (sqlglot), the DuckDB query, building findings.

    python -m bench.profile_rules DATA [--memory-limit 3GB] [--temp-directory DIR] [--rules ID,...]

Runs the rules one after another in this process, as ``run_rules`` does (same environment of
views and knowledge tables), and splits each rule's time into

* ``sql_s``    ``sqltext.to_duckdb`` (sqlglot parse, canonical form, DuckDB text);
* ``query_s``  DuckDB executing it and handing the rows over as Arrow (``query_rule`` minus the above);
* ``build_s``  ``findings.build`` (finding ids, evidence JSON, Decimal amounts).

Also the time to register the views (``environment``, which computes the shared views once). Prints the rules slowest first and writes
``bench/out/profile-<data folder name>.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile_rules", description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--temp-directory", default=None)
    ap.add_argument("--rules", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a DuckDB setting, e.g. preserve_insertion_order=false")
    ap.add_argument("--tag", default="", help="suffix of the output file name")
    a = ap.parse_args(argv)

    import workbench
    from workbench.rules import engine
    from workbench.sql import dialect as sqltext
    from workbench.sql.duck import large_work
    from workbench.rules import findings as _findings
    from workbench.rules.loader import load_library, select_rules

    from bench._measure import peak_rss_mb

    lib = load_library()
    chosen = select_rules(lib, a.rules.split(",") if a.rules else None)
    rows = []
    t_all = time.perf_counter()
    kw = {"memory_limit": a.memory_limit}
    if a.temp_directory:
        kw["temp_directory"] = a.temp_directory
    if a.threads:
        kw["threads"] = a.threads
    with workbench.open(a.data, **kw) as s:
        s.con.execute("SET enable_progress_bar = false")
        for kv in a.set:
            k, v = kv.split("=", 1)
            s.con.execute(f"SET {k} = '{v}'")
        t0 = time.perf_counter()
        env = engine.environment(s, list(chosen.values()))
        env_s = time.perf_counter() - t0
        mat = env.get("materialized", [])  # the engine computes these once, inside env_s
        for rid, rule in chosen.items():
            if engine.why_skipped(s, rule, env):
                continue
            values = rule.resolve(None, where=rid)
            t0 = time.perf_counter()
            sqltext.to_duckdb(rule.render_sql(values), rid)
            sql_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            try:
                with large_work(s.con):  # as run_rules runs them
                    got, columns = engine.query_rule(s, rule, values)
            except Exception as e:  # e.g. DuckDB out of memory: note it, go on with the next rule
                dt = time.perf_counter() - t0
                rows.append({"rule_id": rid, "sql_s": round(sql_s, 3), "query_s": round(dt, 3), "build_s": 0.0,
                             "total_s": round(dt, 3), "rows": None, "findings": None, "error": str(e)[:300]})
                print(f"  {rid:<28} FAILED after {dt:.1f} s: {str(e)[:200]}", flush=True)
                continue
            q_s = time.perf_counter() - t0 - sql_s  # query_rule translates again
            t0 = time.perf_counter()
            df = _findings.build(rule, got, columns)
            b_s = time.perf_counter() - t0
            rows.append({"rule_id": rid, "sql_s": round(sql_s, 3), "query_s": round(max(q_s, 0), 3),
                         "build_s": round(b_s, 3), "total_s": round(sql_s + max(q_s, 0) + b_s, 3),
                         "rows": len(got), "findings": len(df)})
            print(f"  {rid:<28} sql {sql_s:6.2f}  query {q_s:7.2f}  build {b_s:6.2f}  ({len(df)} findings)", flush=True)
    total = time.perf_counter() - t_all
    rows.sort(key=lambda r: -r["total_s"])
    print(f"\nviews/knowledge registration {env_s:.2f} s; materialised {mat}; all {total:.1f} s; peak RSS {peak_rss_mb() / 1024:.2f} GB")
    print("slowest first:")
    for r in rows:
        print(f"  {r['rule_id']:<28} {r['total_s']:7.2f} s  (sql {r['sql_s']:.2f}, query {r['query_s']:.2f}, "
              f"build {r['build_s']:.2f}; {r['rows']} rows)" + (f"  FAILED: {r['error'][:120]}" if r.get("error") else ""))
    sums = {k: round(sum(r[k] for r in rows), 2) for k in ("sql_s", "query_s", "build_s")}
    print(f"sums: {sums}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"profile-{Path(a.data).name}{'-mat' if mat else ''}{a.tag}.json").write_text(json.dumps(
        {"data": a.data, "env_s": env_s, "materialized": mat, "total_s": total, "sums": sums, "peak_rss_mb": peak_rss_mb(), "rules": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
