"""Run a benchmark step in a child process and read its wall time and peak memory."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_child(args: list, timeout: float = 3600) -> dict:
    """Run ``python -m <args>`` in a fresh process; it writes JSON to the path given last.

    Returns the child's JSON plus ``wall_s`` measured here and ``peak_rss_mb`` reported by the
    child (its own ``ru_maxrss``), so each step's memory is its own.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", *args, str(out)], timeout=timeout)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"benchmark step failed ({r.returncode}): {' '.join(args)}")
    res = json.loads(out.read_text())
    out.unlink()
    res["wall_s"] = round(wall, 2)
    return res


def limits() -> dict:
    """DuckDB limits of a child: ``BENCH_MEMORY_LIMIT`` (default 3GB) and ``BENCH_TEMP_DIR`` (where to spill).

    ``python -m bench`` sets them per scale (the province gets more memory and a folder under
    ``bench/out`` to spill to), so a child's DuckDB never spills outside ``bench/``.
    """
    import os

    kw = {"memory_limit": os.environ.get("BENCH_MEMORY_LIMIT", "3GB")}
    if os.environ.get("BENCH_TEMP_DIR"):
        kw["temp_directory"] = os.environ["BENCH_TEMP_DIR"]
    return kw


def peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def finish(path, result: dict):
    result["peak_rss_mb"] = peak_rss_mb()
    Path(path).write_text(json.dumps(result, default=str))
