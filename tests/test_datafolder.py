import datetime as dt
import json
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from workbench import datafolder
from workbench.errors import DataFolderError

PSN = {"psn_no": ["0001", "0002"], "certno": ["370102199001011234", "370102198512120021"], "gend": ["1", "2"],
       "brdy": ["1990-01-01", "1985-12-12"], "insutype": ["310", "390"], "insuplc_admdvs": ["370802", "370802"]}
MEDINS = {"fixmedins_code": ["H001"], "fixmedins_name": ["任城区人民医院"], "fixmedins_type": ["1"], "hosp_lv": ["2"], "admdvs": ["370811"]}
MDTRT = {"mdtrt_id": ["M1"], "psn_no": ["0001"], "fixmedins_code": ["H001"], "med_type": ["11"],
         "begntime": ["2024-03-01 09:00:00"], "endtime": ["2024-03-01 09:20:00"], "dise_codg": ["I10"], "atddr_no": ["D1"]}
SETL = {"setl_id": ["S1"], "mdtrt_id": ["M1"], "psn_no": ["0001"], "fixmedins_code": ["H001"],
        "setl_time": ["2024-03-01 09:30:00"], "medfee_sumamt": ["100.10"], "hifp_pay": [60.06]}


def test_write_data_folder_conforms_types_and_writes_manifest(tmp_path):
    out = tmp_path / "d"
    m = datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT, "setl": SETL}, source={"kind": "test"})
    t = pq.read_table(out / "psn.parquet")
    assert t.column("psn_no").to_pylist() == ["0001", "0002"]  # leading zeros kept
    assert t.column("brdy").to_pylist()[0] == dt.date(1990, 1, 1)
    s = pq.read_table(out / "setl.parquet")
    assert s.column("hifp_pay").to_pylist() == [Decimal("60.06")]
    assert s.column("medfee_sumamt").to_pylist() == [Decimal("100.10")]
    man = json.loads((out / "data_manifest.json").read_text())
    assert man == datafolder.read_manifest(out)
    assert man["source"] == {"kind": "test"}
    assert man["tables"]["psn"]["rows"] == 2 and man["tables"]["setl"]["rows"] == 1
    assert man["tables"]["psn"]["sha256"] == datafolder.sha256_file(out / "psn.parquet")
    assert set(man["tables"]) == {"psn", "medins", "mdtrt", "setl"}
    assert datafolder.verify_manifest(out) == []
    # no temporary folder left beside it
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_verify_manifest_names_a_changed_table(tmp_path):
    out = tmp_path / "d"
    datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT}, source={})
    datafolder.write_table(out, "medins", {**MEDINS, "fixmedins_name": ["改名医院"]})
    assert datafolder.verify_manifest(out) == ["medins: sha256 differs from the manifest"]


def test_failed_write_leaves_nothing_and_keeps_the_old_folder(tmp_path):
    out = tmp_path / "d"
    datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT}, source={"v": 1})
    bad = {k: v for k, v in MDTRT.items() if k != "begntime"}
    with pytest.raises(DataFolderError, match="mdtrt: missing column.*begntime"):
        datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": bad}, source={"v": 2})
    assert datafolder.read_manifest(out)["source"] == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_table_folder_of_parts_is_one_table(tmp_path):
    out = tmp_path / "d"
    datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT}, source={})
    (out / "fee").mkdir()
    fee = {"feedetl_sn": ["1"], "mdtrt_id": ["M1"], "psn_no": ["0001"], "fee_ocur_time": ["2024-03-01 09:05:00"],
           "med_list_codg": ["X"], "med_chrgitm_type": ["09"], "cnt": [2], "pric": ["3.50"], "det_item_fee_sumamt": ["7.00"], "bilg_dr_codg": ["D1"]}
    for i in range(2):
        pq.write_table(datafolder.conform("fee", {**fee, "feedetl_sn": [str(i)]}), out / "fee" / f"part-{i}.parquet")
    fp = datafolder.fingerprint(out / "fee")
    assert fp["rows"] == 2 and fp["files"] == 2
    man = datafolder.write_manifest(out, {})
    assert man["tables"]["fee"]["rows"] == 2


def test_unknown_table_is_refused(tmp_path):
    with pytest.raises(DataFolderError, match="unknown table"):
        datafolder.write_data_folder(tmp_path / "d", {"visits": MDTRT}, source={})


def test_opening_a_folder_whose_money_is_not_the_contracts_decimal_is_refused(tmp_path):
    import pyarrow as pa

    import workbench

    out = tmp_path / "d"
    datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT, "setl": SETL}, source={})
    with workbench.open(out) as s:
        assert s.one("SELECT typeof(hifp_pay) FROM setl")[0] == "DECIMAL(18,2)"
    t = pq.read_table(out / "setl.parquet")
    i = t.schema.get_field_index("hifp_pay")
    pq.write_table(t.set_column(i, "hifp_pay", t.column(i).cast(pa.float64())), out / "setl.parquet")
    with pytest.raises(DataFolderError, match=r"setl\.parquet: column hifp_pay is stored as double, the contract's type is decimal128\(18, 2\)"):
        workbench.open(out)
