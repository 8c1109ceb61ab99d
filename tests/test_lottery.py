"""The 双随机 draw: the algorithm by hand, the record byte for byte, verification, the stdlib check."""
import hashlib
import json
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench import datafolder, lottery
from workbench.lottery import verify_draw as lottery_check
from workbench.cli import main
from workbench.errors import LotteryError

ROOT = Path(__file__).resolve().parents[1]
SEED = "2026-Q4"
DATE = "2026-11-28"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lottery_tables(with_inspector=True):
    """24 institutions in 2 counties × 2 types (H05 terminated, H06 suspended, H07 status null),
    8 inspectors (I01 worked at H00, I02 at H01), one person with a certno and a name."""
    med = [dict(fixmedins_code=f"H{i:02d}", fixmedins_name=f"第{i}人民医院" if i % 2 else f"康宁药房{i}号店",
                fixmedins_type="1" if i % 2 else "2", hosp_lv="2" if i % 2 else "9",
                admdvs="370102" if i < 12 else "370103",
                agrmt_stas={5: "terminated", 6: "suspended", 7: None}.get(i, "active")) for i in range(24)]
    insp = [dict(inspector_id=f"I{j:02d}", inspector_name=f"李执法{j}", unit=f"市医保执法支队第{j % 3 + 1}大队",
                 admdvs="370102" if j % 2 else "370103", former_fixmedins_code={1: "H00", 2: "H01"}.get(j))
            for j in range(1, 9)]
    psn = pd.DataFrame([dict(psn_no="P1", certno="370102199001011234", psn_name="张三丰", gend="1", brdy="1990-01-01",
                             insutype="310", insuplc_admdvs="370102")])
    mdtrt = pd.DataFrame([dict(mdtrt_id="M1", psn_no="P1", fixmedins_code="H01", med_type="11",
                               begntime="2026-01-05 08:00", endtime="2026-01-05 09:00", dise_codg="J06", atddr_no="D1")])
    tables = dict(psn=psn, medins=pd.DataFrame(med), mdtrt=mdtrt)
    if with_inspector:
        tables["inspector"] = pd.DataFrame(insp)
    return tables


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("lottery") / "data"
    datafolder.write_data_folder(out, lottery_tables(), source={"kind": "test"})
    return out


@pytest.fixture(scope="module")
def the_draw(data):
    return lottery.draw(data, SEED, 6, 4, date=DATE)


# --------------------------------------------------------------------------- the algorithm by hand
def test_rank_and_fingerprints_are_plain_sha256():
    assert lottery.rank(SEED, "H01") == sha("2026-Q4|H01")
    assert lottery.rank("二〇二六年第四季度", "H01") == hashlib.sha256("二〇二六年第四季度|H01".encode("utf-8")).hexdigest()
    assert lottery.list_fingerprint(["H02", "H01"]) == sha("H01\nH02")
    assert lottery.list_fingerprint([]) == sha("")
    ids = [f"H{i:02d}" for i in range(10)]
    assert lottery.order_ids(SEED, ids) == sorted(ids, key=lambda x: sha(SEED + "|" + x))


def test_allocation_hand_examples():
    # docs/lottery.md: weights 5000, 5000, 12000 → 2, 1, 4; the last is capped at 3 → 2, 2, 3
    assert lottery.allocate([10, 5, 3], [5000, 5000, 12000], 7) == [2, 2, 3]
    assert lottery.allocate([10, 10, 10], [1000, 1000, 1000], 4) == [2, 1, 1]  # tie: the earlier stratum
    assert lottery.allocate([10, 10], [500, 4000], 9) == [1, 8]  # 9×500/4500 = 1, 9×4000/4500 = 8
    assert lottery.allocate([2, 3], [0, 3000], 3) == [0, 3]  # ratio 0: never drawn
    assert lottery.allocate([2, 3], [1000, 1000], 5) == [2, 3]
    assert lottery.allocate([2, 3], [1000, 1000], 0) == [0, 0]
    with pytest.raises(LotteryError, match="cannot draw 6 institutions: .* hold 5 candidates"):
        lottery.allocate([2, 3], [1000, 1000], 6)


def test_team_assignment_hand_example():
    insp = [dict(inspector_id="I1", admdvs="C1", former_fixmedins_code="H1"),
            dict(inspector_id="I2", admdvs="C2", former_fixmedins_code=None),
            dict(inspector_id="I3", admdvs="C1", former_fixmedins_code=None)]
    inst = [("H1", "C1"), ("H2", "C1"), ("H3", "C2")]
    # H1: I1 worked there → I2, I3; H2: I1 has fewest → I1, then I2 (earlier than I3 at 1 each); H3: I1 1, I3 1 → I1, I3
    assert lottery.assign_teams(inst, insp, 2, False) == [["I2", "I3"], ["I1", "I2"], ["I1", "I3"]]
    # own county too: H1 (C1) has only I2 → no team of 2
    with pytest.raises(LotteryError, match=r"no conflict-free team for institution H1 \(county C1\): only 1 of the 3"):
        lottery.assign_teams(inst, insp, 2, True)
    assert lottery.assign_teams(inst, insp, 1, True) == [["I2"], ["I2"], ["I1"]]


def test_parameters_parse_exactly():
    assert lottery.parse_ratios("A=5%,B=10%,C=0.2,D=40%") == {"A": 500, "B": 1000, "C": 2000, "D": 4000}
    assert lottery.parse_ratios({"B": "0.0125"}) == {"B": 125}
    with pytest.raises(LotteryError, match="whole basis points"):
        lottery.parse_ratios("B=0.00001")
    with pytest.raises(LotteryError, match="'x' is not a number"):
        lottery.parse_ratios("B=x")
    assert lottery.parse_strata(None) == ["admdvs", "fixmedins_type", "credit"]
    assert lottery.parse_strata("credit,admdvs") == ["credit", "admdvs"]
    assert lottery.parse_strata("none") == ["credit"]
    assert lottery.seed_from_bytes("\ufeff 2026-Q4\n".encode("utf-8")) == "2026-Q4"
    with pytest.raises(LotteryError, match="YYYY-MM-DD"):
        lottery.parse_date("28/11/2026")


# --------------------------------------------------------------------------- the draw on a data folder
def test_the_record_holds_what_verification_needs(data, the_draw):
    rec = the_draw.record
    cands = sorted(x for c in rec["cells"] for x in c["candidates"])
    assert cands == [f"H{i:02d}" for i in range(24) if i not in (5, 6)]  # terminated / suspended out, null in
    assert [c["stratum"] for c in rec["cells"]] == ["370102/1/B", "370102/2/B", "370103/1/B", "370103/2/B"]
    # sizes 5, 5, 6, 6, all class B (1000 bp): weights 5000, 5000, 6000, 6000 of 22000; 6 × those → floors
    # 1, 1, 1, 1, remainders 8000, 8000, 14000, 14000: the two draws left go to the strata of 6
    assert [len(c["candidates"]) for c in rec["cells"]] == [5, 5, 6, 6]
    assert [c["k"] for c in rec["cells"]] == [1, 1, 2, 2]
    for c in rec["cells"]:
        assert c["drawn"] == lottery.order_ids(SEED, c["candidates"])[: c["k"]]
        assert c["candidates_sha256"] == sha("\n".join(c["candidates"]))
    assert [i["inspector_id"] for i in rec["drawn_inspectors"]] == lottery.order_ids(SEED, [f"I{j:02d}" for j in range(1, 9)])[:4]
    assert all("inspector_name" not in i for i in rec["drawn_inspectors"])
    manifest = json.loads((data / "data_manifest.json").read_text(encoding="utf-8"))
    assert rec["data_tables"] == {n: {"rows": t["rows"], "sha256": t["sha256"]} for n, t in manifest["tables"].items()}
    assert [t["fixmedins_code"] for t in rec["teams"]] == the_draw.drawn_institutions
    assert [t["team"] for t in rec["teams"]] == ["T01", "T02", "T03", "T04", "T05", "T06"]
    assert (rec["seed"], rec["date"], rec["algorithm"], rec["credit"]) == (SEED, DATE, "workbench-lottery/1", {})
    assert list(the_draw.summary()["k"]) == [1, 1, 2, 2]


def test_same_inputs_give_the_same_bytes(data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    args = ["lottery", "draw", str(data), "--seed", SEED, "--institutions", "6", "--inspectors", "4", "--date", DATE]
    assert main(args + ["--out", str(tmp_path / "a.json")]) == 0
    assert main(args + ["--out", str(tmp_path / "b.json")]) == 0
    a = (tmp_path / "a.json").read_bytes()
    assert a == (tmp_path / "b.json").read_bytes() == lottery.draw(data, SEED, 6, 4, date=DATE).to_json().encode("utf-8")
    assert "drew 6 institutions in 4 strata and 4 inspectors" in capsys.readouterr().out
    kept = list((tmp_path / "home" / "lottery").glob("*.json"))
    assert [p.name for p in kept] == [f"{DATE}_{hashlib.sha256(a).hexdigest()[:12]}.json"] and kept[0].read_bytes() == a


def test_another_seed_draws_otherwise(data, the_draw):
    other = lottery.draw(data, "2026-Q4 ", 6, 4, date=DATE)
    assert other.drawn_institutions != the_draw.drawn_institutions
    assert [c["k"] for c in other.cells] == [c["k"] for c in the_draw.cells]  # allocation does not depend on the seed
    assert lottery.draw(data, SEED, 6, 4, date="2026-11-29").drawn_institutions == the_draw.drawn_institutions


def test_credit_classes_move_institutions_and_weigh_the_allocation(data):
    credit = {"H00": "D", "H02": "D", "H04": "D", "H13": "A", "H99": "D"}  # H99 is no candidate: not recorded
    d = lottery.draw(data, SEED, 6, 4, credit=credit, date=DATE)
    assert d.record["credit"] == {"H00": "D", "H02": "D", "H04": "D", "H13": "A"}
    cells = {c["stratum"]: (len(c["candidates"]), c["weight"], c["k"]) for c in d.cells}
    # W = 5000 + 2000 + 12000 (3 × 4000) + 500 (A) + 5000 + 6000 = 30500; 6 × w: floors 0, 0, 2, 0, 0, 1,
    # remainders 30000, 12000, 11000, 3000, 30000, 5500 → the 3 draws left go to strata 1, 5 and 2
    assert cells == {"370102/1/B": (5, 5000, 1), "370102/2/B": (2, 2000, 1), "370102/2/D": (3, 12000, 2),
                     "370103/1/A": (1, 500, 0), "370103/1/B": (5, 5000, 1), "370103/2/B": (6, 6000, 1)}


def test_strata_and_ratios_options(data):
    d = lottery.draw(data, SEED, 4, 2, strata="none", date=DATE)
    assert [c["stratum"] for c in d.cells] == ["B"] and d.cells[0]["k"] == 4
    d = lottery.draw(data, SEED, 4, 2, strata="hosp_lv", ratios="A=1%,B=2%", date=DATE)
    assert [c["key"] for c in d.cells] == [{"hosp_lv": "2", "credit": "B"}, {"hosp_lv": "9", "credit": "B"}]
    with pytest.raises(LotteryError, match=r"strata column\(s\) county not in table medins"):
        lottery.draw(data, SEED, 4, 2, strata="admdvs,county", date=DATE)
    with pytest.raises(LotteryError, match="credit class 'E' has no ratio"):
        lottery.draw(data, SEED, 4, 2, credit={"H00": "E"}, date=DATE)
    with pytest.raises(LotteryError, match="cannot draw 9 inspectors: the inspector pool holds 8"):
        lottery.draw(data, SEED, 4, 9, date=DATE)


def test_a_pool_without_a_conflict_free_team_is_refused(data):
    # the first 2 inspectors drawn (I07, I01) both work in 370102, the county of the first institution drawn
    with pytest.raises(LotteryError, match=r"no conflict-free team for institution H07 \(county 370102\): only 0 of the 2 drawn"):
        lottery.draw(data, SEED, 6, 2, exclude_own_county=True, date=DATE)


def test_no_inspector_table_is_a_clear_error(tmp_path):
    datafolder.write_data_folder(tmp_path / "d", lottery_tables(with_inspector=False), source={})
    with pytest.raises(LotteryError, match="no inspector table .*law-enforcement pool"):
        lottery.draw(tmp_path / "d", SEED, 2, 2, date=DATE)
    assert main(["lottery", "draw", str(tmp_path / "d"), "--seed", SEED, "--institutions", "2", "--inspectors", "2",
                 "--out", str(tmp_path / "x.json")]) == 1


# --------------------------------------------------------------------------- verification
def _tampered(tmp_path, d, edit):
    rec = json.loads(d.to_json())
    edit(rec)
    p = tmp_path / "DRAW.json"
    p.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    return p


def test_verify_says_verified(data, the_draw, tmp_path, capsys):
    path = the_draw.save(tmp_path / "DRAW.json")
    assert main(["lottery", "verify", str(path), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verified: 6 institutions in 4 strata, 4 inspectors and 6 teams of draw ")
    assert "follow from seed '2026-Q4' and the data" in out
    assert lottery_check.check(the_draw.record) == []


def test_verify_catches_a_swapped_institution(data, the_draw, tmp_path, capsys):
    cell = the_draw.cells[2]
    drawn, outsider = cell["drawn"], next(x for x in cell["candidates"] if x not in cell["drawn"])

    def swap(rec):
        rec["cells"][2]["drawn"][1] = outsider
        rec["teams"][3]["fixmedins_code"] = outsider

    p = _tampered(tmp_path, the_draw, swap)
    assert main(["lottery", "verify", str(p), "--data", str(data)]) == 1
    out = capsys.readouterr().out
    assert "NOT verified" in out
    assert "the drawn institutions do not follow from seed '2026-Q4' in 1 of 4 strata" in out
    assert (f"stratum 370103/1/B: the record draws [{drawn[0]}, {outsider}] but seed '2026-Q4' draws "
            f"[{drawn[0]}, {drawn[1]}] ([{outsider}] in place of [{drawn[1]}])") in out
    assert lottery_check.check(json.loads(p.read_text(encoding="utf-8"))) == ["drawn in 370103/1/B"]


def test_verify_catches_a_changed_seed(data, the_draw, tmp_path):
    p = _tampered(tmp_path, the_draw, lambda rec: rec.update(seed="2026-Q3"))
    v = lottery.verify(p, data)
    assert not v.ok
    assert re.match(r"the drawn institutions do not follow from seed '2026-Q3' in [1-4] of 4 strata", v.differences[0])
    assert "drawn in 370102/1/B" in lottery_check.check(json.loads(p.read_text(encoding="utf-8")))


def test_verify_catches_an_edited_candidate_list(data, the_draw, tmp_path):
    cell = the_draw.cells[2]
    dropped = next(x for x in cell["candidates"] if x not in cell["drawn"])
    p = _tampered(tmp_path, the_draw, lambda rec: rec["cells"][2]["candidates"].remove(dropped))
    v = lottery.verify(p, data)
    assert not v.ok
    assert (f"stratum 370103/1/B: candidate list edited: its 5 ids do not match its recorded fingerprint "
            f"{cell['candidates_sha256'][:12]}…") in v.differences
    assert f"stratum 370103/1/B: candidate list differs from the data: only in the record [], only in the data [{dropped}]" in v.differences
    assert lottery_check.check(json.loads(p.read_text(encoding="utf-8")))[0] == "candidates of 370103/1/B"


def test_verify_catches_changed_data(data, the_draw, tmp_path, capsys):
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    med = pq.read_table(copy / "medins.parquet").to_pandas()
    victim = the_draw.cells[1]["drawn"][0]
    med.loc[med["fixmedins_code"] == victim, "agrmt_stas"] = "suspended"  # the manifest is left as it was
    datafolder.write_table(copy, "medins", med)
    path = the_draw.save(tmp_path / "DRAW.json")
    assert main(["lottery", "verify", str(path), "--data", str(copy)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"data changed: table medins has sha256 \w{12}… \(24 rows\), the draw recorded \w{12}… \(24 rows\)", out)
    assert f"stratum 370102/2/B: candidate list differs from the data: only in the record [{victim}], only in the data []" in out


def test_a_change_in_a_table_the_draw_does_not_read_is_only_noted(data, the_draw, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    (copy / "mdtrt.parquet").write_bytes((copy / "mdtrt.parquet").read_bytes() + b"")
    datafolder.write_table(copy, "mdtrt", pq.read_table(copy / "mdtrt.parquet").to_pandas().iloc[:0])
    v = lottery.verify(the_draw, copy)
    assert v.ok and v.notes and v.notes[0].startswith("data changed: table mdtrt has sha256")
    assert v.notes[0].endswith("(not read by the draw)")


def test_verify_refuses_what_is_not_a_draw(data, tmp_path):
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(LotteryError, match="not a draw record"):
        lottery.verify(tmp_path / "x.json", data)


# --------------------------------------------------------------------------- the standard-library script
def test_the_docs_script_is_the_module_script():
    doc = (ROOT / "docs" / "lottery.md").read_text(encoding="utf-8")
    block = doc.split("### Checking a record with the standard library only", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert block == (ROOT / "workbench" / "lottery" / "verify_draw.py").read_text(encoding="utf-8")
    imports = set(re.findall(r"^import (.+?)(?:  #.*)?$", block, re.M)[0].split(", "))
    assert imports == {"hashlib", "json", "sys"} and "from " not in block


def test_the_script_runs_on_its_own(the_draw, tmp_path):
    script = tmp_path / "verify_draw.py"
    script.write_bytes((ROOT / "workbench" / "lottery" / "verify_draw.py").read_bytes())
    good = the_draw.save(tmp_path / "DRAW.json")
    r = subprocess.run([sys.executable, "-I", str(script), str(good)], capture_output=True, text=True, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "verified\n")
    bad = _tampered(tmp_path / "..", the_draw, lambda rec: rec["teams"][0]["inspectors"].reverse())
    r = subprocess.run([sys.executable, "-I", str(script), str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (1, "NOT verified: team T01\n")


# --------------------------------------------------------------------------- properties
COUNTIES = ["C1", "C2", "C3"]


@st.composite
def lotteries(draw):
    n = draw(st.integers(1, 25))
    rows = [{"fixmedins_code": f"H{i:02d}", "admdvs": draw(st.sampled_from(COUNTIES)),
             "fixmedins_type": draw(st.sampled_from(["1", "2"]))} for i in range(n)]
    credit = {r["fixmedins_code"]: c for r in rows if (c := draw(st.sampled_from([None, "A", "B", "C", "D"])))}
    m = draw(st.integers(1, 10))
    codes = [None] + [r["fixmedins_code"] for r in rows]
    pool = [{"inspector_id": f"I{j:02d}", "unit": "U", "admdvs": draw(st.sampled_from(COUNTIES)),
             "former_fixmedins_code": draw(st.sampled_from(codes))} for j in range(m)]
    team = draw(st.integers(1, min(3, m)))
    return dict(rows=rows, pool=pool, credit=credit, seed=draw(st.text(min_size=1, max_size=10).filter(str.strip)),
                institutions=draw(st.integers(0, n)), inspectors=draw(st.integers(team, m)), team_size=team,
                exclude_own_county=draw(st.booleans()), strata=draw(st.sampled_from(["admdvs,fixmedins_type", "admdvs", "none"])))


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(lotteries())
def test_draw_properties(case):
    kw = {k: case[k] for k in ("strata", "credit", "team_size", "exclude_own_county")}
    try:
        rec = lottery.compose(case["rows"], case["pool"], case["seed"], case["institutions"], case["inspectors"], date=DATE, **kw)
    except LotteryError as e:
        # only a real absence of a conflict-free team may stop a draw
        code = re.match(r"no conflict-free team for institution (\S+) ", str(e)).group(1)
        by_id = {i["inspector_id"]: i for i in case["pool"]}
        drawn_insp = [by_id[i] for i in lottery.order_ids(case["seed"], list(by_id))[: case["inspectors"]]]
        admdvs = next(r["admdvs"] for r in case["rows"] if r["fixmedins_code"] == code)
        free = [i for i in drawn_insp if not lottery.conflicts(i, code, admdvs, case["exclude_own_county"])]
        assert len(free) < case["team_size"]
        return
    cells, drawn = rec["cells"], [x for c in rec["cells"] for x in c["drawn"]]
    assert sum(c["k"] for c in cells) == len(drawn) == case["institutions"]
    assert len(set(drawn)) == len(drawn)
    assert sorted(x for c in cells for x in c["candidates"]) == sorted(r["fixmedins_code"] for r in case["rows"])
    W = sum(c["weight"] for c in cells)
    for c in cells:
        assert c["k"] <= len(c["candidates"]) and c["drawn"] == lottery.order_ids(case["seed"], c["candidates"])[: c["k"]]
        if all(x["k"] < len(x["candidates"]) for x in cells) and W:  # nothing capped: within 1 of the exact share
            assert abs(c["k"] - Fraction(case["institutions"] * c["weight"], W)) < 1
    insp = {i["inspector_id"]: i for i in rec["drawn_inspectors"]}
    assert len(insp) == len(rec["drawn_inspectors"]) == case["inspectors"]
    county = {r["fixmedins_code"]: r["admdvs"] for r in case["rows"]}
    assert [t["fixmedins_code"] for t in rec["teams"]] == drawn
    load = dict.fromkeys(insp, 0)
    for t in rec["teams"]:
        assert len(t["inspectors"]) == len(set(t["inspectors"])) == case["team_size"]
        for i in t["inspectors"]:
            assert insp[i]["former_fixmedins_code"] != t["fixmedins_code"]
            assert not (case["exclude_own_county"] and insp[i]["admdvs"] == county[t["fixmedins_code"]])
            load[i] += 1
    if not case["exclude_own_county"] and not any(i["former_fixmedins_code"] in drawn for i in insp.values()):
        assert max(load.values()) - min(load.values()) <= 1  # no conflict: every inspector within one visit of the others
    assert lottery_check.check(rec) == []
    assert lottery.Draw(rec).to_json() == lottery.Draw(json.loads(lottery.Draw(rec).to_json())).to_json()


# --- 飞行检查 shortlist weighted by priority -------------------------------------------------------

def test_flying_shortlist_weighted_by_priority_and_reproducible():
    import math

    import pandas as pd

    from workbench.lottery import flying_shortlist, rank

    frame = pd.DataFrame({"fixmedins_code": ["BIG", "A", "B", "C", "ZERO"], "priority": [1000.0, 1.0, 1.0, 1.0, 0.0]})
    s = flying_shortlist(frame, 2, "2024-飞检")
    assert list(s.columns) == ["order", "fixmedins_code", "priority", "key"] and list(s.order) == [1, 2]
    pd.testing.assert_frame_equal(s, flying_shortlist(frame, 2, "2024-飞检"))  # same seed, same shortlist
    # the published rule: key = ln(u) / priority, u from the SHA-256 rank of seed|code
    keys = {c: math.log((int(rank("2024-飞检", c)[:16], 16) + 0.5) / 2.0 ** 64) / p for c, p in zip(frame.fixmedins_code[:4], frame.priority[:4])}
    assert list(s.fixmedins_code) == sorted(keys, key=lambda c: -keys[c])[:2]
    assert "ZERO" not in set(flying_shortlist(frame, 10, 1).fixmedins_code) and len(flying_shortlist(frame, 10, 1)) == 4
    # chance grows with priority: BIG (1000 of 1003) comes first under nearly every seed
    firsts = [flying_shortlist(frame, 1, seed).fixmedins_code.iloc[0] for seed in range(100)]
    assert firsts.count("BIG") >= 95
    even = pd.DataFrame({"fixmedins_code": [f"H{i}" for i in range(10)], "priority": 5.0})
    assert len({tuple(flying_shortlist(even, 3, seed).fixmedins_code) for seed in range(20)}) > 10  # equal weights: a lottery
    with pytest.raises(LotteryError, match="n must be"):
        flying_shortlist(frame, 0, 1)
    with pytest.raises(LotteryError, match="priority"):
        flying_shortlist(frame.drop(columns="priority"), 1, 1)


# --------------------------------------------------------------------------- issue 19: agreements from cases
def test_a_suspended_institution_is_no_candidate_during_its_term(data, tmp_path):
    from workbench.cases import CaseStore
    from workbench.cases.casework import act, open_case

    home = tmp_path / "home"
    everyone = {x for c in lottery.draw(data, SEED, 6, 4, date="2025-04-01", home=home).cells for x in c["candidates"]}
    code = sorted(everyone)[0]
    store = CaseStore(home)
    cid = open_case(store, code, "tipoff", "张三", on="2025-03-01")["subject"]
    act(store, cid, "review", "张三", on="2025-03-02")
    act(store, cid, "suspend", "张三", on="2025-03-10", until="2025-06-30")

    def candidates(day):
        d = lottery.draw(data, SEED, 6, 4, date=day, home=home)
        return d, {x for c in d.cells for x in c["candidates"]}

    before, during, last_day, after = (candidates(day) for day in ("2025-03-09", "2025-04-01", "2025-06-30", "2025-07-01"))
    assert before[1] == everyone and after[1] == everyone and "agreement_excluded" not in after[0].record
    assert during[1] == last_day[1] == everyone - {code}
    assert during[0].record["agreement_excluded"] == {code: f"suspended 2025-03-10…2025-06-30 ({cid})"}
    assert lottery.verify(during[0], data).ok  # the record carries what was left out
    act(store, cid, "terminate", "张三", on="2025-08-01")
    assert candidates("2025-07-31")[1] == everyone and candidates("2026-01-01")[1] == everyone - {code}


def test_a_draw_samples_by_the_classes_the_cases_give(data, tmp_path):
    from workbench.cases import CaseStore
    from workbench.cases.casework import act, open_case
    from workbench.credit_store import record_credit

    home = tmp_path / "home"
    plain = lottery.draw(data, SEED, 6, 4, date="2025-06-01", home=home)
    assert plain.record["credit"] == {}  # no case: everyone B, as before
    code = sorted({x for c in plain.cells for x in c["candidates"]})[0]
    store = CaseStore(home)
    cid = open_case(store, code, "tipoff", "张三", on="2025-03-01")["subject"]
    act(store, cid, "confirm", "张三", on="2025-03-02")
    act(store, cid, "recover", "张三", on="2025-03-05", amount="600000")  # 50万 or more: class D
    d = lottery.draw(data, SEED, 6, 4, date="2025-06-01", home=home)
    assert d.record["credit"] == {code: "D"}
    assert [c["key"]["credit"] for c in d.cells if code in c["candidates"]] == ["D"]
    assert lottery.verify(d, data).ok
    assert lottery.draw(data, SEED, 6, 4, date="2025-03-01", home=home).record["credit"] == {}  # not yet confirmed
    record_credit(store, "institution", code, "repair", "2025-05-01", "李四")
    assert lottery.draw(data, SEED, 6, 4, date="2025-06-01", home=home).record["credit"] == {}
