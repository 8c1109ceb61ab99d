"""``python -m bench.rules --data DATA`` on a fresh clone (no ``bench/out`` yet) writes its result."""
from __future__ import annotations

import json

import pytest


def test_rules_bench_on_given_data_makes_its_output_folder(random_region, tmp_path, monkeypatch, capsys):
    rules_bench = pytest.importorskip("bench.rules")
    out = tmp_path / "fresh-clone" / "bench" / "out"  # does not exist, as on a fresh clone
    monkeypatch.setattr(rules_bench, "OUT", out)
    assert rules_bench.main(["--data", str(random_region), "--skip-pandas"]) == 0
    result = json.loads((out / "rules.json").read_text())
    assert result["data"] == str(random_region) and result["agree"] is None
    steps = [r[0] for r in result["rows"]]
    assert steps == ["all rules, DuckDB", "5 rules, DuckDB"]
    assert "rule benchmark on" in capsys.readouterr().out
