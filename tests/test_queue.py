"""workbench.queue: the in-memory findings queue and its filters, on the hand-made run."""
from __future__ import annotations

import json
import time
from decimal import Decimal

import pandas as pd
import pytest
from dashdata import TOTAL, findings_frame

from workbench.cases import CaseStore
from workbench.errors import WorkbenchError
from workbench.queue import FindingsQueue, to_fen

D = Decimal


@pytest.fixture()
def queue(hand_run, tmp_path):
    return FindingsQueue(hand_run, home=tmp_path / "home")


def ids(sel):
    return list(sel.rows.finding_id)


def test_frame_most_money_first_with_institution_facts(queue):
    f = queue.frame
    assert list(f.finding_id) == ["F3", "F1", "F2", "F7", "F8", "F5", "F6", "F4"]
    h1 = f.set_index("finding_id").loc["F1"]
    assert (h1.fixmedins_name, h1.admdvs, h1.county, h1.category) == ("甲医院", "370102", "历下区", "tertiary")
    assert f.set_index("finding_id").loc["F8"].category == "unknown"  # H9 is not in medins
    assert set(f.status) == {"undecided"}


def test_filters(queue):
    assert queue.filter().count == 8 and queue.filter().amount_at_risk == TOTAL
    assert ids(queue.filter(rule="split_hospitalization")) == ["F1"]
    assert ids(queue.filter(institution="H1")) == ["F3", "F1", "F7", "F4"]
    assert ids(queue.filter(county="370102", result_type="violation")) == ["F2", "F5", "F4"]
    sel = queue.filter(min_amount="60")
    assert ids(sel) == ["F3", "F1", "F2", "F7"] and sel.amount_at_risk == D("1588.89")
    assert ids(queue.filter(min_amount="60.01")) == ["F3", "F1", "F2"]
    assert queue.filter(rule="no_such_rule").count == 0
    assert ids(queue.filter(limit=2)) == ["F3", "F1"] and queue.filter(limit=2).count == 8


def test_month_of_care_filter_matches_the_briefings_trend(queue, hand_run):
    from workbench.briefing import Briefing

    assert ids(queue.filter(month="2024-01")) == ["F1", "F4"]  # F1's own visit; F4's evidence all in January
    assert ids(queue.filter(month="2024-02", institution="H1")) == []
    assert queue.filter(month="2023-12").count == 0
    for m in Briefing(hand_run).by_month.itertuples(index=False):  # each bar of the trend opens its findings
        if m.month is not None:
            sel = queue.filter(month=m.month)
            assert (sel.count, sel.amount_at_risk) == (m.findings, m.amount_at_risk), m.month
    with pytest.raises(WorkbenchError, match="YYYY-MM"):
        queue.filter(month="2024-13")


def test_minimum_amount_is_exact_and_checked():
    assert to_fen("0.05") == 5 and to_fen("1,000.01") == 100001 and to_fen(" ") is None
    assert to_fen("0.051") == 6 and to_fen("-1") == -100
    with pytest.raises(WorkbenchError, match="not an amount"):
        to_fen("12元")


def test_fraction_of_a_fen_in_the_minimum(queue):
    assert "F4" in ids(queue.filter(min_amount="0.05"))
    assert "F4" not in ids(queue.filter(min_amount="0.051"))  # 0.05 < 0.051


def test_status_from_the_case_store(hand_run, tmp_path):
    home = tmp_path / "home"
    CaseStore(home).decide("F2", "confirmed", "王审核")
    CaseStore(home).decide("F5", "dismissed", "王审核")
    q = FindingsQueue(hand_run, home=home)
    assert ids(q.filter(status="confirmed")) == ["F2"]
    assert ids(q.filter(status="undecided")) == ["F3", "F1", "F7", "F8", "F6", "F4"]
    q.set_status("F1", "open")
    assert ids(q.filter(status="open")) == ["F1"] and q.finding("F1")["status"] == "open"
    with pytest.raises(WorkbenchError, match="status"):
        q.filter(status="closed")


def test_options_count_each_value(queue):
    o = queue.options()
    assert o["fixmedins_code"][0] == ("H1", "甲医院", 4)
    assert ("H9", None, 1) in o["fixmedins_code"]
    assert o["admdvs"] == [("370102", "历下区", 6)]
    assert o["result_type"] == [("suspicious", 4), ("violation", 4)]
    assert o["status"][0] == ("undecided", 8)


def test_evidence_rows_are_masked(queue):
    ev = queue.evidence("F2")
    assert list(ev) == ["mdtrt", "psn"]
    assert ev["psn"].certno.iloc[0] == "*" * 18
    with pytest.raises(WorkbenchError, match="no finding"):
        queue.evidence("NOPE")


def test_filter_is_fast_on_many_findings(hand_run, tmp_path):
    import pyarrow.parquet as pq

    from workbench.audit import findings_table

    big = pd.concat([findings_frame()] * 25000, ignore_index=True)  # 200,000 findings
    big["finding_id"] = [f"X{i:06d}" for i in range(len(big))]
    run = tmp_path / "big"
    run.mkdir()
    pq.write_table(findings_table(big), run / "findings.parquet")
    from workbench.datafolder import sha256_file

    m = json.loads((hand_run / "manifest.json").read_text())
    m["outputs"] = {"findings.parquet": {"sha256": sha256_file(run / "findings.parquet"), "rows": len(big)}}
    (run / "manifest.json").write_text(json.dumps(m))
    q = FindingsQueue(run, home=tmp_path / "home")
    times = []
    for filters in ({"rule": "price_over_cap", "institution": "H1", "min_amount": "0.01"}, {"county": "370102"},
                    {"min_amount": "100"}, {}):
        t0 = time.perf_counter()
        sel = q.filter(**filters)
        times.append(time.perf_counter() - t0)
    assert max(times) < 0.3, times
    sel = q.filter(rule="price_over_cap", institution="H1", min_amount="0.01")
    assert sel.count == 25000 and sel.amount_at_risk == D("1250.00") and len(sel.rows) == 50
