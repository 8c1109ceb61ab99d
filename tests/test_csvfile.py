"""workbench.csvfile: every CSV the workbench writes neutralises formulas (OWASP), numbers untouched."""
from __future__ import annotations

import ast
import re
import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ruledata import FIXTURE_LIBRARY, tiny_tables
from workbench import datafolder
from workbench.audit import audit, write_findings
from workbench.cli import main
from workbench.csvfile import csv_bytes, neutralise, write_csv
from workbench.export import export_pack

ROOT = Path(__file__).resolve().parents[1]
EQ, CMD = "=1+2医院", "+cmd|' /C calc'!A0"


def test_neutralise_follows_owasp_and_leaves_numbers():
    assert neutralise(EQ) == "'=1+2医院" and neutralise(CMD) == "'" + CMD
    assert neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise("-2+3") == "'-2+3"
    assert neutralise("\t=1") == "'\t=1" and neutralise("\r=1") == "'\r=1"
    for number in ("-12.50", "+3", "-0.5", "1e-5", "-1E+3", ".5", "-7."):
        assert neutralise(number) == number
    assert neutralise("甲医院") == "甲医院" and neutralise("") == "" and neutralise("a=1") == "a=1"


def read_rows(raw: bytes) -> list:
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_cells_numbers_and_separators():
    df = pd.DataFrame({"name": [EQ, CMD, "a;=HYPERLINK(1)", "-12.50", None, "x,\"y\""],
                       "amount": [Decimal("-12.50"), Decimal("3.00"), Decimal("0.10"), Decimal("-0.01"), None, Decimal("1")],
                       "share": [-1.5, 0.25, float("nan"), 2.0, 1.0, 0.0],
                       "n": pd.array([-3, 1, None, 4, 5, 6], dtype="Int64"),
                       "day": pd.to_datetime(["2024-01-01"] * 6), "at": pd.to_datetime(["2024-01-01 08:30"] * 6)})
    raw = csv_bytes(df)
    text = raw.decode("utf-8-sig").splitlines()
    assert text[0] == "name,amount,share,n,day,at"
    assert text[1] == "'=1+2医院,-12.50,-1.5,-3,2024-01-01,2024-01-01 08:30:00"  # the negative numbers stay numbers
    assert text[3].startswith('"a;=HYPERLINK(1)",')  # a ';' cell is quoted: no new cell in a ';' locale
    rows = read_rows(raw)
    assert rows[2][0] == "'" + CMD and rows[4][0] == "-12.50" and rows[5][:4] == ["", "", "1.0", "5"]
    assert rows[6][0] == 'x,"y"'
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert back["amount"].tolist()[:2] == [-12.5, 3.0] and back["share"].iloc[0] == -1.5  # read as numbers
    # a custom cell formatter (providers, rings, stays) is neutralised too; the file is written atomically
    out = write_csv(df, Path(__import__("tempfile").mkdtemp()) / "x.csv", columns=["name", "amount"],
                    cell=lambda c, v: "" if v is None else str(v), bom=False)
    assert out.read_text(encoding="utf-8").splitlines()[1] == "'=1+2医院,-12.50"
    assert [p.name for p in out.parent.iterdir()] == ["x.csv"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The tiny region with institutions coded and named ``=1+2医院`` and ``+cmd|' /C calc'!A0``, audited."""
    root = tmp_path_factory.mktemp("hostile")
    tables = tiny_tables()
    rename = {"H1": EQ, "H2": CMD}
    for df in tables.values():
        if "fixmedins_code" in df:
            df["fixmedins_code"] = df["fixmedins_code"].replace(rename)
    tables["medins"]["fixmedins_name"] = [EQ, CMD, "丙药店"]
    datafolder.write_data_folder(root / "data", tables, source={"kind": "test"})
    audit(root / "data", root / "run", rules=str(FIXTURE_LIBRARY), progress=False, echo=io.StringIO())
    return root


def test_hostile_names_are_neutralised_in_findings_providers_and_packs(hostile, tmp_path):
    raw = (hostile / "run" / "findings.csv").read_bytes()
    rows = read_rows(raw)
    col = rows[0].index("fixmedins_code")
    assert {r[col] for r in rows[1:]} == {"'" + EQ, "'" + CMD}
    assert pd.read_parquet(hostile / "run" / "findings.parquet")["fixmedins_code"].isin([EQ, CMD]).all()  # data unchanged

    assert main(["providers", str(hostile / "data"), "--out", str(tmp_path / "providers.csv")]) == 0
    rows = read_rows((tmp_path / "providers.csv").read_bytes())
    assert sorted(r[0] for r in rows[1:]) == sorted(["'" + EQ, "'" + CMD])
    assert not [c for r in rows for c in r if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not _number(c))]

    pack = tmp_path / "pack.zip"
    export_pack(hostile / "run", pack, home=tmp_path / "home")
    with zipfile.ZipFile(pack) as z:
        csvs = {n: read_rows(z.read(n)) for n in z.namelist() if n.endswith(".csv") and not n.startswith("rules/knowledge")}
    mdtrt = csvs["evidence/mdtrt.csv"]
    assert {r[mdtrt[0].index("fixmedins_code")] for r in mdtrt[1:]} == {"'" + EQ, "'" + CMD}
    for name, rows in csvs.items():  # no cell of any CSV of the pack starts a formula
        assert not [c for r in rows for c in r if c[:1] in ("=", "+", "@", "\t", "\r")
                    or (c[:1] == "-" and not _number(c))], name


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_a_negative_amount_stays_a_number_in_findings_and_stays(tmp_path):
    from workbench.stays import write_pairs_csv

    f = pd.DataFrame([{"finding_id": "F1", "rule_id": "r", "official_code": None, "result_type": "suspicious",
                       "fixmedins_code": EQ, "dr_code": None, "psn_no": "P1", "mdtrt_id": "M1",
                       "amount_at_risk": Decimal("-12.50"), "evidence": "[]", "detail": "-退费 refund", "detail_en": "x"}])
    write_findings(f, tmp_path)
    rows = read_rows((tmp_path / "findings.csv").read_bytes())
    r = dict(zip(rows[0], rows[1]))
    assert (r["amount_at_risk"], r["fixmedins_code"], r["detail"]) == ("-12.50", "'" + EQ, "'-退费 refund")
    assert pd.read_csv(tmp_path / "findings.csv", encoding="utf-8-sig")["amount_at_risk"].iloc[0] == -12.5
    pairs = pd.DataFrame({"psn_no": ["P1"], "fixmedins_code": [CMD], "gap_days": pd.array([-2], dtype="Int64"),
                          "second_hifp_pay": [Decimal("-60.00")], "same_category": [True], "day": [dt.date(2024, 1, 2)]})
    rows = read_rows(write_pairs_csv(pairs, tmp_path / "stays.csv").read_bytes())
    assert rows[1] == ["P1", "'" + CMD, "-2", "-60.00", "true", "2024-01-02"]


def test_no_csv_is_written_outside_the_one_writer():
    """``to_csv(``, ``csv.writer(`` / ``csv.DictWriter(`` and DuckDB ``COPY … TO`` appear only in csvfile.py."""
    offenders = []
    for path in sorted((ROOT / "workbench").rglob("*.py")) + sorted((ROOT / "widgets").rglob("*.py")):
        if path == ROOT / "workbench" / "csvfile.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                f = node.func
                if f.attr == "to_csv" or (f.attr in ("writer", "DictWriter") and isinstance(f.value, ast.Name)
                                          and f.value.id == "csv"):
                    offenders.append(f"{where} {f.attr}(")
            if isinstance(node, ast.ImportFrom) and node.module == "csv" and {a.name for a in node.names} & {"writer", "DictWriter"}:
                offenders.append(f"{where} from csv import writer")
            # SQL is written in capitals here; prose ("a copy of each file ... to ...") is not SQL
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"\bCOPY\b", node.value) \
                    and re.search(r"\bTO\b", node.value) and "CSV" in node.value.upper():
                offenders.append(f"{where} COPY … TO csv")
    assert offenders == []
