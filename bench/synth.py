"""Benchmark step: synthesise one data folder and record its throughput.

    python -m bench.synth SCALE SEED DIR OUT.json

Run as a child of ``python -m bench`` (or on its own with ``nohup`` for the province, which takes
long). Besides writing ``OUT.json`` (for :func:`bench._measure.run_child`) it keeps the figures
next to the data, in ``DIR.synth.json``, so a later suite that reuses the data folder can still
report how fast it was made (and says it was measured when the data were made).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench._measure import finish, peak_rss_mb


def fee_lines(data) -> int:
    """Fee lines of a data folder, from its manifest."""
    m = json.loads((Path(data) / "data_manifest.json").read_text())
    tables = m.get("tables", m)
    fee = tables.get("fee", {})
    return int(fee.get("rows", 0)) if isinstance(fee, dict) else 0


def sidecar(data) -> Path:
    d = Path(data)
    return d.with_name(d.name + ".synth.json")


def worker(scale, seed, data, path):
    from workbench.synth import synthesize

    t0 = time.perf_counter()
    synthesize(data, scale=scale, seed=int(seed), progress=False)
    seconds = time.perf_counter() - t0
    n = fee_lines(data)
    res = {"scale": scale, "seed": int(seed), "seconds": round(seconds, 2), "fee_lines": n,
           "fee_lines_per_s": round(n / seconds, 1), "measured": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    sidecar(data).write_text(json.dumps({**res, "peak_rss_mb": peak_rss_mb()}, indent=1))
    finish(path, res)


if __name__ == "__main__":
    worker(*sys.argv[1:5])
