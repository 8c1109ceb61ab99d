"""Rings of shapes the failing extract did not have, on several seeds of the extract-like region.

    python -m bench.ring_shapes [--seeds 18,5,31]

The extract-like region of tests/test_rings.py (3 hospitals, 12 clinics, 3 pharmacies, 400
ordinary persons, a ring and the pharmacy beside clinic C02) is built with each ring shape of
``RING_SHAPES`` there, a ring at two pharmacies and two rings sharing three patients, for each
seed; each is looked for in the region and in an extract of its three pharmacies. Printed: the
rank and Jaccard overlap of the planted ring (of both rings where there are two), the control's
rank and the top scores, and the same with ``join_share`` 0 (Louvain's communities as they are).
A quality check, not a timing: the tests assert seed 18; this shows whether other seeds agree.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"


def cases():
    sys.path.insert(0, str(TESTS))
    from test_rings import RING_SHAPES

    yield from RING_SHAPES.items()
    yield "a ring at two pharmacies (F1, F3)", {"ring_pharmacies": ("F1", "F3")}
    yield "two rings sharing 3 patients", {"second_ring": 3}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="18,5,31")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(TESTS))
    from test_rings import _ranked, extract_like_tables

    from workbench import datafolder, rings
    from workbench.extract import extract
    from workbench.rings import RingParams

    second = {f"S{i:05d}" for i in range(20)} | {f"R{i:05d}" for i in range(3)} | {"DC0601", "DC0701", "F3"}
    print(f"{'seed':>4}  {'shape':44s} {'cut':10s} {'ring (rank, J)':16s} {'2nd ring':14s} {'control':8s} "
          f"{'top scores':24s} without join (ring rank, J)")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(s) for s in args.seeds.split(",")):
            for k, (name, shape) in enumerate(cases()):
                tables, planted = extract_like_tables(seed=seed, **shape)
                data = Path(tmp) / f"{seed}-{k}" / "data"
                datafolder.write_data_folder(data, tables, source={"kind": "bench", "what": name})
                extract(data, data.parent / "pharmacies", institutions=["F1", "F2", "F3"])
                for cut in (data, data.parent / "pharmacies"):
                    found = rings.find_rings(cut)
                    rank, j = _ranked(found, planted)
                    two = _ranked(found, second) if "second_ring" in shape else None
                    ring_members = found.dr_code.str.contains("DC01|DC03|DC06|DC07|DH")
                    control = [i + 1 for i in found.index[found.fixmedins_code.str.contains("F2") & ~ring_members]]
                    r0, j0 = _ranked(rings.find_rings(cut, RingParams(join_share=0)), planted)
                    if two is None:
                        ok = rank == 1 and j >= 0.8 and all(c > 1 for c in control)
                    else:
                        ok = {rank, two[0]} == {1, 2} and min(j, two[1]) >= 0.8 and all(c > 2 for c in control)
                    bad += not ok
                    print(f"{seed:>4}  {name:44s} {cut.name:10s} {f'{rank}, {j:.2f}':16s} "
                          f"{f'{two[0]}, {two[1]:.2f}' if two else '':14s} {str(control):8s} "
                          f"{str(found.score.head(3).tolist()):24s} {r0}, {j0:.2f}{'' if ok else '   <-- not found as it should be'}",
                          flush=True)
    print(f"{bad} case(s) not found as they should be")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
