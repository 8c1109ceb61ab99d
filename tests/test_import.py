"""workbench import: platform and CMS extracts, every kind of bad input, atomic writes, the CLI."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench import cli, datafolder
from workbench.errors import ImportValidationError, UnknownFormatError, WorkbenchError
from workbench.importer import Problem, formats, import_extract

FIXTURES = Path(__file__).parent / "fixtures"

# A small clean platform extract: three persons (ids with leading zeros, the three date layouts),
# two institutions, three visits, their settlements (one a refund with negative amounts), charges.
BASE = {
    "psn": [
        {"psn_no": "00012", "certno": "370102199001011234", "psn_name": "张三", "gend": "1", "brdy": "1990-01-01", "insutype": "310", "insuplc_admdvs": "370102"},
        {"psn_no": "00013", "certno": "370102198505051235", "psn_name": "李四", "gend": "2", "brdy": "19850505", "insutype": "390", "insuplc_admdvs": "370103"},
        {"psn_no": "00014", "certno": "370102197003031236", "psn_name": "王五", "gend": "9", "brdy": "1970-03-03 00:00:00", "insutype": "310", "insuplc_admdvs": "370102"},
    ],
    "medins": [
        {"fixmedins_code": "H0001", "fixmedins_name": "第一人民医院", "fixmedins_type": "1", "hosp_lv": "1", "admdvs": "370102"},
        {"fixmedins_code": "P0002", "fixmedins_name": "康民大药房", "fixmedins_type": "2", "hosp_lv": "9", "admdvs": "370103"},
    ],
    "mdtrt": [
        {"mdtrt_id": "M001", "psn_no": "00012", "fixmedins_code": "H0001", "med_type": "21", "begntime": "2024-03-01 08:30:00", "endtime": "2024-03-05 10:00:00", "dise_codg": "J18.900", "dise_name": "肺炎", "atddr_no": "D0101"},
        {"mdtrt_id": "M002", "psn_no": "00013", "fixmedins_code": "H0001", "med_type": "11", "begntime": "20240310", "endtime": "20240310", "dise_codg": "I10.x00", "dise_name": "高血压", "atddr_no": "D0101"},
        {"mdtrt_id": "M003", "psn_no": "00014", "fixmedins_code": "P0002", "med_type": "41", "begntime": "2024-03-12", "endtime": "2024/03/12", "dise_codg": "E11.900", "dise_name": "糖尿病", "atddr_no": ""},
    ],
    "setl": [
        {"setl_id": "S001", "mdtrt_id": "M001", "psn_no": "00012", "fixmedins_code": "H0001", "setl_time": "2024-03-05 10:05:00", "medfee_sumamt": "5230.50", "hifp_pay": "3661.35", "psn_cash_pay": "1569.15", "refd_setl_flag": "0"},
        {"setl_id": "S002", "mdtrt_id": "M002", "psn_no": "00013", "fixmedins_code": "H0001", "setl_time": "2024-03-10 09:00:00", "medfee_sumamt": "120", "hifp_pay": "84.00", "psn_cash_pay": "36.0", "refd_setl_flag": "0"},
        {"setl_id": "S003", "mdtrt_id": "M002", "psn_no": "00013", "fixmedins_code": "H0001", "setl_time": "2024-03-11 09:00:00", "medfee_sumamt": "-120.00", "hifp_pay": "-84.00", "psn_cash_pay": "-36.00", "refd_setl_flag": "1"},
    ],
    "fee": [
        {"feedetl_sn": "0001", "mdtrt_id": "M001", "psn_no": "00012", "fee_ocur_time": "2024-03-01 09:00:00", "med_list_codg": "XJ01CRA001", "med_chrgitm_type": "09", "cnt": "2", "pric": "15.50", "det_item_fee_sumamt": "31.00", "bilg_dr_codg": "D0101"},
        {"feedetl_sn": "0002", "mdtrt_id": "M001", "psn_no": "00012", "fee_ocur_time": "2024-03-02 09:00:00", "med_list_codg": "110200001", "med_chrgitm_type": "01", "cnt": "1", "pric": "60.000", "det_item_fee_sumamt": "60", "bilg_dr_codg": "D0101"},
        {"feedetl_sn": "0001", "mdtrt_id": "M002", "psn_no": "00013", "fee_ocur_time": "2024-03-10 09:10:00", "med_list_codg": "250101001", "med_chrgitm_type": "04", "cnt": "0.5", "pric": "240", "det_item_fee_sumamt": "120.00", "bilg_dr_codg": "D0101"},
    ],
}


def rows_of(name, **changes):
    """Copies of the base rows of table ``name``; ``changes`` maps row index to {column: value}."""
    rows = [dict(r) for r in BASE[name]]
    for i, ch in changes.items():
        rows[int(i.lstrip("r"))].update(ch)
    return rows


def write_csv(path: Path, rows, encoding="utf-8", columns=None):
    columns = columns or list(rows[0])
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns])
    return path


def make_extract(folder: Path, tables=None, **overrides):
    """Write the base extract as CSV files into ``folder``; ``overrides`` replace a table's rows."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = dict(BASE if tables is None else tables)
    tables.update(overrides)
    for name, rows in tables.items():
        if rows is not None:
            write_csv(folder / f"{name}.csv", rows)
    return folder


def assert_nothing_written(out: Path):
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if ".partial" in p.name or ".old-" in p.name]


def rejected(src, out, fmt="platform", **kw) -> ImportValidationError:
    with pytest.raises(ImportValidationError) as ei:
        import_extract(src, fmt, out, **kw)
    assert_nothing_written(out)
    return ei.value


def only(err, kind) -> Problem:
    found = [p for p in err.problems if p.kind == kind]
    assert len(found) == 1, err.report()
    return found[0]


# ------------------------------------------------------------------------------ platform: clean
def test_platform_extract_imports_with_exact_types_and_values(tmp_path):
    src = make_extract(tmp_path / "src")
    (src / "readme.txt").write_text("notes")
    out = tmp_path / "data"
    result = import_extract(src, "platform", out)
    assert result.rows == {"psn": 3, "medins": 2, "mdtrt": 3, "setl": 3, "fee": 3}
    assert result.warnings == ["readme.txt: not a contract table (psn, insu, medins, dr, mdtrt, setl, fee, list, list_incl, stock, inspector); ignored"]

    psn = pq.read_table(out / "psn.parquet").to_pylist()
    assert [p["psn_no"] for p in psn] == ["00012", "00013", "00014"]  # leading zeros kept
    assert [p["brdy"] for p in psn] == [dt.date(1990, 1, 1), dt.date(1985, 5, 5), dt.date(1970, 3, 3)]
    assert psn[0]["psn_name"] == "张三"
    mdtrt = pq.read_table(out / "mdtrt.parquet")
    assert mdtrt.schema.field("begntime").type == pa.timestamp("us")
    rows = mdtrt.to_pylist()
    assert [(r["begntime"], r["endtime"]) for r in rows] == [
        (dt.datetime(2024, 3, 1, 8, 30), dt.datetime(2024, 3, 5, 10, 0)),
        (dt.datetime(2024, 3, 10), dt.datetime(2024, 3, 10)),
        (dt.datetime(2024, 3, 12), dt.datetime(2024, 3, 12)),
    ]
    assert rows[2]["atddr_no"] is None  # empty is null
    setl = pq.read_table(out / "setl.parquet").to_pylist()
    assert [s["hifp_pay"] for s in setl] == [Decimal("3661.35"), Decimal("84.00"), Decimal("-84.00")]
    assert [s["medfee_sumamt"] for s in setl] == [Decimal("5230.50"), Decimal("120.00"), Decimal("-120.00")]
    fee = pq.read_table(out / "fee.parquet").to_pylist()
    assert [(f["feedetl_sn"], f["cnt"], f["pric"]) for f in fee] == [("0001", 2.0, Decimal("15.50")), ("0002", 1.0, Decimal("60.00")), ("0001", 0.5, Decimal("240.00"))]

    manifest = json.loads((out / "data_manifest.json").read_text())
    assert manifest["tables"]["fee"]["rows"] == 3
    src_files = {f["file"]: f for f in manifest["source"]["files"]}
    assert manifest["source"]["format"] == "platform"
    assert manifest["source"]["path"] == src.name  # no machine path in a manifest
    assert src_files["psn.csv"]["sha256"] == hashlib.sha256((src / "psn.csv").read_bytes()).hexdigest()
    assert src_files["psn.csv"]["table"] == "psn" and src_files["psn.csv"]["encoding"] == "utf-8"
    assert datafolder.verify_manifest(out) == []


def test_column_names_are_matched_ignoring_case_and_spaces_and_unknown_columns_are_warned(tmp_path):
    src = make_extract(tmp_path / "src")
    medins = [{" FIXMEDINS_CODE ": r["fixmedins_code"], "Fixmedins_Name": r["fixmedins_name"], "fixmedins_type ": r["fixmedins_type"],
               "HOSP_LV": r["hosp_lv"], "admdvs": r["admdvs"], "remark": "x"} for r in BASE["medins"]]
    write_csv(src / "medins.csv", medins)
    result = import_extract(src, "platform", tmp_path / "data")
    assert "medins.csv: column(s) remark not in table medins; ignored" in result.warnings
    assert pq.read_table(tmp_path / "data" / "medins.parquet").column("fixmedins_name").to_pylist() == ["第一人民医院", "康民大药房"]


def test_gbk_csv_with_chinese_names_imports(tmp_path):
    src = make_extract(tmp_path / "src")
    write_csv(src / "psn.csv", BASE["psn"], encoding="gbk")
    write_csv(src / "medins.csv", BASE["medins"], encoding="gb18030")
    import_extract(src, "platform", tmp_path / "data")
    assert pq.read_table(tmp_path / "data" / "psn.parquet").column("psn_name").to_pylist() == ["张三", "李四", "王五"]
    assert pq.read_table(tmp_path / "data" / "medins.parquet").column("fixmedins_name").to_pylist() == ["第一人民医院", "康民大药房"]
    files = {f["file"]: f["encoding"] for f in json.loads((tmp_path / "data" / "data_manifest.json").read_text())["source"]["files"]}
    assert files["psn.csv"] == "gb18030" and files["mdtrt.csv"] == "utf-8"


def test_utf8_with_bom_imports(tmp_path):
    src = make_extract(tmp_path / "src")
    write_csv(src / "psn.csv", BASE["psn"], encoding="utf-8-sig")
    assert (src / "psn.csv").read_bytes().startswith(b"\xef\xbb\xbfpsn_no,")
    import_extract(src, "platform", tmp_path / "data")
    assert pq.read_table(tmp_path / "data" / "psn.parquet").column("psn_no").to_pylist() == ["00012", "00013", "00014"]


def test_xlsx_and_parquet_inputs_and_a_folder_of_parts(tmp_path):
    src = make_extract(tmp_path / "src", psn=None, medins=None, fee=None)
    wb = openpyxl.Workbook()
    ws = wb.active
    cols = list(BASE["psn"][0])
    ws.append(cols)
    ws.append(["00012", "370102199001011234", "张三", 1, dt.datetime(1990, 1, 1), 310, 370102])  # numbers and a date cell
    ws.append([None] * len(cols))  # a blank row is skipped, and keeps the numbering
    ws.append([BASE["psn"][1][c] for c in cols])
    ws.append([BASE["psn"][2][c] for c in cols])
    wb.save(src / "psn.xlsx")
    medins = {c: [r[c] for r in BASE["medins"]] for c in BASE["medins"][0]}
    medins["fixmedins_type"] = pa.array([1, 2], pa.int64())  # a typed Parquet column is read as its text
    pq.write_table(pa.table(medins), src / "medins.parquet")
    (src / "fee").mkdir()
    write_csv(src / "fee" / "part-1.csv", BASE["fee"][:2])
    fee2 = {c: [BASE["fee"][2][c]] for c in BASE["fee"][2]}
    fee2["fee_ocur_time"] = pa.array([dt.datetime(2024, 3, 10, 9, 10)], pa.timestamp("ms"))
    fee2["pric"] = pa.array([Decimal("240.00")], pa.decimal128(10, 2))
    pq.write_table(pa.table(fee2), src / "fee" / "part-2.parquet")

    out = tmp_path / "data"
    result = import_extract(src, "platform", out)
    assert result.rows["psn"] == 3 and result.rows["fee"] == 3
    psn = pq.read_table(out / "psn.parquet").to_pylist()
    assert [(p["psn_no"], p["gend"], p["brdy"], p["insutype"], p["insuplc_admdvs"]) for p in psn] == [
        ("00012", "1", dt.date(1990, 1, 1), "310", "370102"),
        ("00013", "2", dt.date(1985, 5, 5), "390", "370103"),
        ("00014", "9", dt.date(1970, 3, 3), "310", "370102"),
    ]
    assert pq.read_table(out / "medins.parquet").column("fixmedins_type").to_pylist() == ["1", "2"]
    fee = pq.read_table(out / "fee.parquet").to_pylist()
    assert [(f["mdtrt_id"], f["feedetl_sn"], f["fee_ocur_time"], f["pric"]) for f in fee] == [
        ("M001", "0001", dt.datetime(2024, 3, 1, 9), Decimal("15.50")),
        ("M001", "0002", dt.datetime(2024, 3, 2, 9), Decimal("60.00")),
        ("M002", "0001", dt.datetime(2024, 3, 10, 9, 10), Decimal("240.00")),
    ]

    # The blank spreadsheet row 3 is skipped, so the third person is on row 5.
    wb = openpyxl.load_workbook(src / "psn.xlsx")
    wb.active["D5"] = "7"
    wb.save(src / "psn.xlsx")
    err = rejected(src, tmp_path / "data2")
    p = only(err, "bad code")
    assert (p.file, p.row, p.column, p.value) == ("psn.xlsx", 5, "gend", "7")


# ------------------------------------------------------------------------- platform: rejected
BAD_CASES = {
    # name: (overrides, kind, file, row, column, value)
    "bad date": ({"mdtrt": rows_of("mdtrt", r1={"begntime": "2024-02-30"}, r2={"endtime": "2024-03-12"})},
                 "bad date", "mdtrt.csv", 3, "begntime", "2024-02-30"),
    "duplicate key": ({"psn": BASE["psn"] + rows_of("psn")[:1]}, "duplicate key", "psn.csv", 5, "psn_no", "00012"),
    "duplicate composite key": ({"fee": rows_of("fee", r1={"feedetl_sn": "0001"})}, "duplicate key", "fee.csv", 3, "mdtrt_id/feedetl_sn", "M001/0001"),
    "dangling person": ({"mdtrt": rows_of("mdtrt", r2={"psn_no": "00099"})}, "dangling reference", "mdtrt.csv", 4, "psn_no", "00099"),
    "dangling institution": ({"mdtrt": rows_of("mdtrt", r0={"fixmedins_code": "H9"})}, "dangling reference", "mdtrt.csv", 2, "fixmedins_code", "H9"),
    "dangling visit of a charge": ({"fee": rows_of("fee", r2={"mdtrt_id": "M404"})}, "dangling reference", "fee.csv", 4, "mdtrt_id", "M404"),
    "end before start": ({"mdtrt": rows_of("mdtrt", r0={"endtime": "2024-02-28 10:00:00"})}, "end before start", "mdtrt.csv", 2, "endtime", "2024-02-28 10:00:00"),
    "negative money not a refund": ({"setl": rows_of("setl", r1={"hifp_pay": "-84.00"})}, "negative money", "setl.csv", 3, "hifp_pay", "-84.00"),
    "negative price": ({"fee": rows_of("fee", r0={"pric": "-15.50"})}, "negative money", "fee.csv", 2, "pric", "-15.50"),
    "bad code": ({"psn": rows_of("psn", r1={"gend": "F"})}, "bad code", "psn.csv", 3, "gend", "F"),
    "charge category without its zero": ({"fee": rows_of("fee", r0={"med_chrgitm_type": "9"})}, "bad code", "fee.csv", 2, "med_chrgitm_type", "9"),
    "money not a number": ({"setl": rows_of("setl", r0={"medfee_sumamt": "5,230.50"})}, "bad money", "setl.csv", 2, "medfee_sumamt", "5,230.50"),
    "money with 3 decimals": ({"setl": rows_of("setl", r0={"hifp_pay": "3661.355"})}, "bad money", "setl.csv", 2, "hifp_pay", "3661.355"),
    "number": ({"fee": rows_of("fee", r1={"cnt": "one"})}, "bad number", "fee.csv", 3, "cnt", "one"),
    "null key": ({"mdtrt": rows_of("mdtrt", r2={"mdtrt_id": " "})}, "null value", "mdtrt.csv", 4, "mdtrt_id", None),
    "null time": ({"mdtrt": rows_of("mdtrt", r1={"begntime": ""})}, "null value", "mdtrt.csv", 3, "begntime", None),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_rejected_naming_file_row_and_column(tmp_path, case):
    overrides, kind, file, row, column, value = BAD_CASES[case]
    src = make_extract(tmp_path / "src", **overrides)
    err = rejected(src, tmp_path / "data")
    p = only(err, kind)
    assert (p.file, p.row, p.column, p.value) == (file, row, column, value)
    assert f"{file}, row {row}, column {column}:" in str(err)
    assert sum(err.total_counts.values()) == 1, err.report()


LIST = [
    {"med_list_codg": "XJ01CRA001", "list_name": "阿莫西林胶囊", "med_chrgitm_type": "09", "pric_uplmt_amt": "20.00", "lmt_gend": "",
     "lmt_age_min": "18", "lmt_age_max": "", "lmt_dise": "J;K", "lmt_hosp_lv": "", "per_day": "否", "tcm_therapy": "0"},
    {"med_list_codg": "110200001", "list_name": "床位费", "med_chrgitm_type": "01", "pric_uplmt_amt": "", "lmt_gend": "2",
     "lmt_age_min": "", "lmt_age_max": "60.0", "lmt_dise": "", "lmt_hosp_lv": "2", "per_day": "TRUE", "tcm_therapy": "no"},
]


def test_integer_and_boolean_columns(tmp_path):
    src = make_extract(tmp_path / "src", list=LIST)
    import_extract(src, "platform", tmp_path / "data")
    rows = pq.read_table(tmp_path / "data" / "list.parquet").to_pylist()
    assert [(r["lmt_age_min"], r["lmt_age_max"], r["per_day"], r["tcm_therapy"], r["pric_uplmt_amt"]) for r in rows] == [
        (18, None, False, False, Decimal("20.00")), (None, 60, True, False, None)]
    bad = [dict(LIST[0], per_day="maybe"), dict(LIST[1], lmt_age_max="60.5")]
    write_csv(src / "list.csv", bad)
    err = rejected(src, tmp_path / "data2")
    assert (only(err, "bad boolean").row, only(err, "bad boolean").column) == (2, "per_day")
    assert (only(err, "bad integer").row, only(err, "bad integer").value) == (3, "60.5")


def test_duplicate_header_is_rejected_and_a_trailing_empty_column_is_not(tmp_path):
    src = make_extract(tmp_path / "src")
    text = (src / "medins.csv").read_text().splitlines()
    (src / "medins.csv").write_text("\n".join(line + "," for line in text) + "\n")  # a trailing delimiter on every line
    import_extract(src, "platform", tmp_path / "data")
    (src / "medins.csv").write_text("\n".join([text[0] + ",HOSP_LV"] + [line + ",1" for line in text[1:]]) + "\n")
    p = only(rejected(src, tmp_path / "data2"), "duplicate column")
    assert (p.file, p.row, p.column) == ("medins.csv", 1, "hosp_lv")


def test_refund_rows_may_be_negative(tmp_path):
    src = make_extract(tmp_path / "src")
    import_extract(src, "platform", tmp_path / "data")
    setl = pq.read_table(tmp_path / "data" / "setl.parquet").to_pylist()
    assert (setl[2]["refd_setl_flag"], setl[2]["psn_cash_pay"]) == ("1", Decimal("-36.00"))


def test_missing_column_and_missing_table(tmp_path):
    psn = [{k: v for k, v in r.items() if k != "brdy"} for r in BASE["psn"]]
    src = make_extract(tmp_path / "src", psn=psn, medins=None)
    err = rejected(src, tmp_path / "data")
    p = only(err, "missing column")
    assert (p.file, p.row, p.column) == ("psn.csv", None, "brdy")
    assert "psn.csv, column brdy: no column brdy (required in table psn)" in str(err)
    assert "no file for required table medins" in str(only(err, "missing table"))


def test_a_part_lacking_a_column_its_siblings_have_is_rejected(tmp_path):
    src = make_extract(tmp_path / "src", fee=None)
    (src / "fee").mkdir()
    write_csv(src / "fee" / "a.csv", BASE["fee"][:1])
    write_csv(src / "fee" / "b.csv", BASE["fee"][1:], columns=[c for c in BASE["fee"][0] if c != "bilg_dr_codg"])
    p = only(rejected(src, tmp_path / "data"), "missing column")
    assert (p.file, p.column) == ("fee/b.csv", "bilg_dr_codg")


def test_malformed_csv_row_and_blank_lines_keep_row_numbers(tmp_path):
    src = make_extract(tmp_path / "src")
    lines = (src / "mdtrt.csv").read_text().splitlines()
    # a blank line after the first visit: the visits below it keep their line numbers
    lines.insert(2, "")
    lines[3] = lines[3].replace("I10.x00", "I10.x00,extra")  # line 4: one field too many
    lines[4] = lines[4].replace("2024-03-12,", "2024-03-1x,", 1)  # line 5
    (src / "mdtrt.csv").write_text("\n".join(lines) + "\n")
    err = rejected(src, tmp_path / "data")
    p = only(err, "malformed row")
    assert (p.file, p.row) == ("mdtrt.csv", 4)
    assert "10 field(s) where the header has 9" in p.message
    # the bad date is only reported once the structure is sound: fix the malformed row
    lines[3] = lines[3].replace("I10.x00,extra", "I10.x00")
    (src / "mdtrt.csv").write_text("\n".join(lines) + "\n")
    p = only(rejected(src, tmp_path / "data"), "bad date")
    assert (p.file, p.row, p.column, p.value) == ("mdtrt.csv", 5, "begntime", "2024-03-1x")


def _gzip(path: Path) -> Path:
    """``path`` compressed beside itself as ``path.gz``, the plain file removed."""
    import gzip

    gz = path.with_name(path.name + ".gz")
    gz.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return gz


def test_gzip_compressed_csv_is_read_as_it_is_and_fingerprinted_as_delivered(tmp_path):
    plain, packed = make_extract(tmp_path / "plain"), make_extract(tmp_path / "packed")
    write_csv(packed / "psn.csv", BASE["psn"], encoding="gbk")  # a GBK export, compressed
    write_csv(plain / "psn.csv", BASE["psn"], encoding="gbk")
    for name in ("psn", "mdtrt", "fee"):
        _gzip(packed / f"{name}.csv")
    import_extract(plain, "platform", tmp_path / "a")
    import_extract(packed, "platform", tmp_path / "b")
    for name in ("psn", "medins", "mdtrt", "setl", "fee"):  # the same tables, value for value
        assert pq.read_table(tmp_path / "b" / f"{name}.parquet").equals(pq.read_table(tmp_path / "a" / f"{name}.parquet")), name
    files = {f["file"]: f for f in json.loads((tmp_path / "b" / "data_manifest.json").read_text())["source"]["files"]}
    assert set(files) == {"psn.csv.gz", "medins.csv", "mdtrt.csv.gz", "setl.csv", "fee.csv.gz"}
    assert files["psn.csv.gz"]["encoding"] == "gb18030" and files["mdtrt.csv.gz"]["rows"] == 3
    assert files["psn.csv.gz"]["sha256"] == hashlib.sha256((packed / "psn.csv.gz").read_bytes()).hexdigest()


def test_a_bad_row_in_a_gzip_compressed_csv_is_named_by_file_and_row(tmp_path):
    src = make_extract(tmp_path / "src")
    csv_path = src / "mdtrt.csv"
    csv_path.write_text(csv_path.read_text().replace("2024-03-12,", "2024-03-1x,", 1))
    _gzip(csv_path)
    p = only(rejected(src, tmp_path / "data"), "bad date")
    assert (p.file, p.row, p.column, p.value) == ("mdtrt.csv.gz", 4, "begntime", "2024-03-1x")
    (src / "mdtrt.csv.gz").write_bytes(b"\x1f\x8b\x08 truncated")  # a broken archive
    p = only(rejected(src, tmp_path / "data"), "unreadable file")
    assert p.file == "mdtrt.csv.gz"
    (src / "mdtrt.csv.gz").unlink()
    (src / "mdtrt.xlsx.gz").write_bytes(b"")  # only CSV is read compressed
    err = rejected(src, tmp_path / "data")
    assert any(q.kind == "missing table" for q in err.problems), err.report()


def test_cms_files_as_published_gzip_compressed_import_the_same(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "cms", src)
    for p in sorted(src.glob("*.csv")):
        _gzip(p)
    a, b = import_extract(FIXTURES / "cms", "cms", tmp_path / "a"), import_extract(src, "cms", tmp_path / "b")
    assert a.rows == b.rows and a.provenance == b.provenance
    for name in ("psn", "mdtrt", "setl", "cms_labels"):
        assert pq.read_table(tmp_path / "b" / f"{name}.parquet").equals(pq.read_table(tmp_path / "a" / f"{name}.parquet")), name


def test_broken_xlsx_is_unreadable(tmp_path):
    src = make_extract(tmp_path / "src", psn=None)
    (src / "psn.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    p = only(rejected(src, tmp_path / "data"), "unreadable file")
    assert p.file == "psn.xlsx" and "cannot read this XLSX file" in p.message


def test_undecodable_csv_is_unreadable(tmp_path):
    src = make_extract(tmp_path / "src")
    (src / "psn.csv").write_bytes((src / "psn.csv").read_bytes() + b"\x81\xff\xfe\n")
    p = only(rejected(src, tmp_path / "data"), "unreadable file")
    assert (p.file, p.row) == ("psn.csv", 5)
    assert "not UTF-8 or GB18030" in p.message


def test_report_lists_the_first_n_of_each_kind_and_counts_all(tmp_path):
    psn = [dict(BASE["psn"][0], psn_no=f"{i:05d}", gend="X") for i in range(30)]
    src = make_extract(tmp_path / "src", psn=psn)
    err = rejected(src, tmp_path / "data", max_report=3)
    assert err.total_counts["bad code"] == 30
    assert len([p for p in err.problems if p.kind == "bad code"]) == 3
    assert [p.row for p in err.problems if p.kind == "bad code"] == [2, 3, 4]
    assert "  bad code: 30" in str(err) and "... and 27 more" in str(err)


def test_unknown_format(tmp_path):
    src = make_extract(tmp_path / "src")
    with pytest.raises(UnknownFormatError, match="unknown import format 'hl7'; known formats: platform, cms"):
        import_extract(src, "hl7", tmp_path / "data")
    assert_nothing_written(tmp_path / "data")
    assert formats()[:2] == ["platform", "cms"]


# -------------------------------------------------------------------- writing: atomic, safe
def test_reimport_with_force_replaces_an_existing_data_folder_only_on_success(tmp_path):
    src, out = make_extract(tmp_path / "src"), tmp_path / "data"
    import_extract(src, "platform", out)
    before = (out / "data_manifest.json").read_text()
    write_csv(src / "psn.csv", BASE["psn"] + [dict(BASE["psn"][0], psn_no="00015")])
    with pytest.raises(WorkbenchError, match=r"--out .*data is not empty \(data_manifest\.json, fee\.parquet, .*--force"):
        import_extract(src, "platform", out)
    assert (out / "data_manifest.json").read_text() == before
    write_csv(src / "psn.csv", rows_of("psn", r0={"brdy": "1990-00-01"}))
    rejected_err = pytest.raises(ImportValidationError, import_extract, src, "platform", out, force=True)
    assert "psn.csv, row 2, column brdy" in str(rejected_err.value)
    assert (out / "data_manifest.json").read_text() == before  # untouched
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name or ".old-" in p.name]
    write_csv(src / "psn.csv", BASE["psn"] + [dict(BASE["psn"][0], psn_no="00015")])
    import_extract(src, "platform", out, force=True)
    assert pq.read_table(out / "psn.parquet").num_rows == 4
    assert datafolder.verify_manifest(out) == []


def test_refuses_a_non_empty_folder_and_with_force_keeps_every_file_it_does_not_write(tmp_path):
    src = make_extract(tmp_path / "src")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.txt").write_text("precious")
    with pytest.raises(WorkbenchError, match="is not empty"):
        import_extract(src, "platform", tmp_path / "docs")
    with pytest.raises(WorkbenchError, match="would replace the extract"):
        import_extract(src, "platform", src, force=True)
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["thesis.txt"]
    import_extract(src, "platform", tmp_path / "docs", force=True)
    assert (tmp_path / "docs" / "thesis.txt").read_text() == "precious"
    assert datafolder.verify_manifest(tmp_path / "docs") == []


def test_import_over_a_synth_folder_never_deletes_its_truth(tmp_path):
    """Issue 23: import replaced the folder and deleted truth.parquet and every other file."""
    src, out = make_extract(tmp_path / "src"), tmp_path / "data"
    import_extract(src, "platform", out)
    pq.write_table(pa.table({"case_id": ["C1"], "rule_id": ["r"]}), out / "truth.parquet")
    datafolder.write_manifest(out, {"generator": "workbench.synth"})
    (out / "README.txt").write_text("made by synth")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert cli.main(["import", str(src), "--format", "platform", "--out", str(out)]) == 1
    with pytest.raises(WorkbenchError, match=r"holds truth\.parquet, which this data folder does not write"):
        import_extract(src, "platform", out, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name or ".old-" in p.name]
    (out / "truth.parquet").rename(tmp_path / "truth.parquet")  # moved away by the user: now it goes
    assert cli.main(["import", str(src), "--format", "platform", "--out", str(out), "--force"]) == 0
    assert (out / "README.txt").read_text() == "made by synth"
    assert datafolder.read_manifest(out)["source"]["format"] == "platform"


# --------------------------------------------------------------------------------------- CMS
def test_cms_fixture_imports_with_exact_rows(tmp_path):
    out = tmp_path / "data"
    result = import_extract(FIXTURES / "cms", "cms", out)
    assert result.rows == {"psn": 5, "medins": 5, "dr": 8, "mdtrt": 8, "setl": 8}
    assert result.provenance == {"cms_labels": 5}

    psn = {r["psn_no"]: r for r in pq.read_table(out / "psn.parquet").to_pylist()}
    assert psn["BENE11003"] == {"psn_no": "BENE11003", "certno": "CMSBENE11003", "gend": "1", "brdy": dt.date(1936, 8, 1),
                                "insutype": "390", "insuplc_admdvs": "952590", "death_date": dt.date(2009, 12, 1)}
    assert psn["BENE11001"]["death_date"] is None  # NA
    assert (psn["BENE11002"]["gend"], psn["BENE11004"]["insuplc_admdvs"]) == ("2", "905010")  # state 5, county 10 padded

    mdtrt = {r["mdtrt_id"]: r for r in pq.read_table(out / "mdtrt.parquet").to_pylist()}
    assert mdtrt["CLM46614"] == {"mdtrt_id": "CLM46614", "psn_no": "BENE11001", "fixmedins_code": "PRV55912", "med_type": "21",
                                 "begntime": dt.datetime(2009, 4, 12), "endtime": dt.datetime(2009, 4, 18), "dise_codg": "1970",
                                 "atddr_no": "PHY390922", "drg_codg": "201"}  # DiagnosisGroupCode, inpatient only
    assert mdtrt["CLM121801"]["drg_codg"] is None  # an outpatient claim has no DRG
    assert (mdtrt["CLM121801"]["med_type"], mdtrt["CLM121801"]["begntime"], mdtrt["CLM121801"]["endtime"]) == (
        "11", dt.datetime(2009, 1, 6), dt.datetime(2009, 1, 7))
    assert mdtrt["CLM150998"]["dise_codg"] == "0389"  # ICD-9 as given, leading zero kept

    setl = {r["setl_id"]: r for r in pq.read_table(out / "setl.parquet").to_pylist()}
    assert setl["CLM46614"] == {"setl_id": "CLM46614", "mdtrt_id": "CLM46614", "psn_no": "BENE11001", "fixmedins_code": "PRV55912",
                                "setl_time": dt.datetime(2009, 4, 18), "medfee_sumamt": Decimal("27068.00"), "hifp_pay": Decimal("26000.00"),
                                "psn_cash_pay": Decimal("1068.00"), "fund_pay_sumamt": Decimal("26000.00"), "refd_setl_flag": "0"}
    # DeductibleAmtPaid NA: the total is the reimbursement alone, the cash share unknown
    assert (setl["CLM68358"]["medfee_sumamt"], setl["CLM68358"]["psn_cash_pay"]) == (Decimal("5000.00"), None)
    assert setl["CLM121801"]["medfee_sumamt"] == Decimal("50.00")

    medins = {r["fixmedins_code"]: r for r in pq.read_table(out / "medins.parquet").to_pylist()}
    assert medins["PRV57610"] == {"fixmedins_code": "PRV57610", "fixmedins_name": "PRV57610", "fixmedins_type": "1", "hosp_lv": "9", "admdvs": "952590"}
    assert medins["PRV55912"]["admdvs"] == "905010"  # a tie of one patient each: the smaller region code
    dr = {r["dr_code"]: r for r in pq.read_table(out / "dr.parquet").to_pylist()}
    assert set(dr) == {"PHY390922", "PHY318495", "PHY386896", "PHY324689", "PHY326117", "PHY362868", "PHY328821", "PHY412132"}
    assert dr["PHY390922"] == {"dr_code": "PHY390922", "fixmedins_code": "PRV55912", "dr_type": "doctor"}  # 2 claims there, 1 at PRV57610
    assert dr["PHY412132"]["fixmedins_code"] == "PRV57610"  # only ever an OtherPhysician

    labels = pq.read_table(out / "cms_labels.parquet").to_pylist()
    assert labels[0] == {"fixmedins_code": "PRV55912", "potential_fraud": True}
    manifest = json.loads((out / "data_manifest.json").read_text())
    assert manifest["source"]["format"] == "cms" and manifest["source"]["mapping"]["file"] == "cms.yaml"
    assert manifest["source"]["provenance"]["cms_labels"]["rows"] == 5
    assert {f["role"] for f in manifest["source"]["files"]} == {"beneficiary", "inpatient", "outpatient", "labels"}


def test_cms_folder_with_unrecognised_files_is_rejected(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_csv(src / "claims.csv", [{"id": "1", "amount": "3"}])
    err = rejected(src, tmp_path / "data", fmt="cms")
    p = only(err, "unrecognised file")
    assert p.file == "claims.csv" and "the header (id, amount) is none of the cms files" in p.message
    assert "beneficiary (header with BeneID, DOB, DOD, Gender, State, County" in p.message


def test_cms_bad_value_names_the_source_file_row_and_column(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "cms", src)
    ip = src / "Train_Inpatientdata-1542865627584.csv"
    ip.write_text(ip.read_text().replace("2009-09-17,29590", "2009-09-31,29590"))
    p = only(rejected(src, tmp_path / "data", fmt="cms"), "bad date")
    assert (p.file, p.row, p.column, p.source_column, p.value) == ("Train_Inpatientdata-1542865627584.csv", 4, "begntime", "AdmissionDt", "2009-09-31")
    assert "row 4, column AdmissionDt (-> begntime)" in str(p)


def test_a_new_layout_is_a_new_mapping_file(tmp_path):
    mapping = tmp_path / "tiny.yaml"
    mapping.write_text("""
name: tiny
null_values: ["", "-"]
files:
  people: {header: [pid, sex]}
  visits: {header: [vid, pid, clinic, day]}
tables:
  psn:
    - from: people
      columns: {psn_no: pid, gend: {column: sex, map: {M: "1", F: "2"}}, certno: {sql: "'X' || pid"}, brdy: born,
                insutype: {const: "310"}, insuplc_admdvs: {const: "110101"}}
  mdtrt:
    - from: visits
      columns: {mdtrt_id: vid, psn_no: pid, fixmedins_code: clinic, med_type: {const: "11"}, begntime: day, endtime: day,
                dise_codg: {const: "Z00"}, atddr_no: doc}
derive:
  medins: {function: institutions_from_visits, params: {constants: {fixmedins_type: "1", hosp_lv: "3"}}}
""")
    src = tmp_path / "src"
    src.mkdir()
    write_csv(src / "a.csv", [{"pid": "007", "sex": "F", "born": "1980-02-03"}])
    write_csv(src / "b.csv", [{"vid": "V1", "pid": "007", "clinic": "C1", "day": "20240105", "doc": "-"}])
    import_extract(src, mapping, tmp_path / "data")
    assert pq.read_table(tmp_path / "data" / "psn.parquet").to_pylist()[0]["gend"] == "2"
    assert pq.read_table(tmp_path / "data" / "mdtrt.parquet").to_pylist()[0]["atddr_no"] is None
    assert pq.read_table(tmp_path / "data" / "medins.parquet").to_pylist() == [
        {"fixmedins_code": "C1", "fixmedins_name": "C1", "fixmedins_type": "1", "hosp_lv": "3", "admdvs": "110101"}]


def test_a_broken_mapping_file_is_named(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_csv(src / "a.csv", [{"pid": "007"}])
    base = "name: bad\nfiles:\n  people: {header: [pid]}\ntables:\n  psn:\n    - from: people\n      columns: {psn_no: pid, certno: {sql: \"nosuchfn(pid)\"}}\n"
    (tmp_path / "bad.yaml").write_text(base)
    with pytest.raises(WorkbenchError, match="mapping bad.yaml: tables.psn: .*nosuchfn"):
        import_extract(src, tmp_path / "bad.yaml", tmp_path / "data")
    (tmp_path / "bad.yaml").write_text(base + "derive:\n  medins: {function: institutions_from_visits, params: {colour: red}}\n")
    with pytest.raises(WorkbenchError, match="mapping bad.yaml: derive.medins.params: .*colour"):
        import_extract(src, tmp_path / "bad.yaml", tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


# --------------------------------------------------------------------------------------- CLI
def test_cli_exit_codes_and_messages(tmp_path, capsys):
    src = make_extract(tmp_path / "src")
    assert cli.main(["import", str(src), "--format", "platform", "--out", str(tmp_path / "data")]) == 0
    printed = capsys.readouterr().out
    assert "fee" in printed and "3" in printed and "imported" in printed

    write_csv(src / "mdtrt.csv", rows_of("mdtrt", r1={"begntime": "yesterday"}))
    assert cli.main(["import", str(src), "--format", "platform", "--out", str(tmp_path / "data2")]) == 1
    err = capsys.readouterr().err
    assert "mdtrt.csv, row 3, column begntime: not a valid date" in err and "nothing was written" in err
    assert_nothing_written(tmp_path / "data2")

    with pytest.raises(SystemExit) as ei:
        cli.main(["import", str(src), "--format", "hl7", "--out", str(tmp_path / "data3")])
    assert ei.value.code == 2


# ------------------------------------------------------- issue 23, item 7: empty tables, NUL, formulas
def test_a_header_only_required_table_is_refused_by_name_and_an_optional_one_is_an_empty_table(tmp_path):
    src = make_extract(tmp_path / "src")
    (src / "psn.csv").write_text(",".join(BASE["psn"][0]) + "\n", encoding="utf-8")
    err = rejected(src, tmp_path / "data")
    p = only(err, "empty table")
    assert (p.file, p.row) == ("psn.csv", None) and "table psn is required and may not be empty" in p.message
    assert not [q for q in err.problems if q.kind == "dangling reference"]  # not the misleading message
    src2 = make_extract(tmp_path / "src2")
    (src2 / "fee.csv").write_text(",".join(BASE["fee"][0]) + "\n", encoding="utf-8")
    result = import_extract(src2, "platform", tmp_path / "data2")
    assert result.rows["fee"] == 0 and pq.read_table(tmp_path / "data2" / "fee.parquet").num_rows == 0


def test_a_header_only_cms_claims_file_is_refused_by_name(tmp_path):
    """The mapped CMS format: an inpatient file with a header and no claim is no empty region."""
    import shutil

    src = tmp_path / "cms"
    shutil.copytree(FIXTURES / "cms", src)
    claims = src / "Train_Inpatientdata-1542865627584.csv"
    claims.write_text(claims.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    (src / "Train_Outpatientdata-1542865627584.csv").unlink()
    with pytest.raises(ImportValidationError) as err:
        import_extract(src, "cms", tmp_path / "data")
    p = only(err.value, "empty table")
    assert p.file == claims.name and "table mdtrt is required and may not be empty" in p.message
    assert not (tmp_path / "data").exists()


def test_a_nul_byte_in_a_cell_is_refused_naming_file_row_and_column(tmp_path):
    src = make_extract(tmp_path / "src")
    write_csv(src / "medins.csv", rows_of("medins", r1={"fixmedins_name": "康民\x00大药房"}))
    p = only(rejected(src, tmp_path / "data"), "bad character")
    assert (p.file, p.row, p.column) == ("medins.csv", 3, "fixmedins_name") and "NUL byte" in p.message
    src2 = make_extract(tmp_path / "src2", medins=None)
    pq.write_table(pa.table({k: [r[k] for r in BASE["medins"]] for k in BASE["medins"][0]}).set_column(
        0, "fixmedins_code", pa.array(["H0001", "P00\x0002"])), src2 / "medins.parquet")
    p = only(rejected(src2, tmp_path / "data2"), "bad character")
    assert (p.file, p.row, p.column) == ("medins.parquet", 2, "fixmedins_code")


def test_an_xlsx_formula_without_a_cached_value_is_refused_and_one_with_a_value_is_read(tmp_path):
    src = make_extract(tmp_path / "src", medins=None)
    wb = openpyxl.Workbook()
    ws = wb.active
    cols = list(BASE["medins"][0])
    ws.append(cols)
    for r in BASE["medins"]:
        ws.append([r[c] for c in cols])
    ws["B3"] = '=A3&"药房"'  # openpyxl writes no cached value, as any program that is not Excel
    wb.save(src / "medins.xlsx")
    p = only(rejected(src, tmp_path / "data"), "formula without value")
    assert (p.file, p.row, p.column, p.value) == ("medins.xlsx", 3, "fixmedins_name", '=A3&"药房"')
    # the same cell with the value Excel computed and kept: that value is imported
    import zipfile

    with zipfile.ZipFile(src / "medins.xlsx") as z:
        files = {n: z.read(n) for n in z.namelist()}
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    cell = sheet[sheet.index('<c r="B3"'):]
    cell = cell[:cell.index("</c>") + 4]
    files["xl/worksheets/sheet1.xml"] = sheet.replace(cell, cell.replace("</f>", "</f><v>康民药房</v>").replace("<c ", '<c t="str" ', 1)).encode()
    with zipfile.ZipFile(src / "medins.xlsx", "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    import_extract(src, "platform", tmp_path / "data")
    names = pq.read_table(tmp_path / "data" / "medins.parquet").column("fixmedins_name").to_pylist()
    assert names == ["第一人民医院", "康民药房"]
