import datetime as dt
import json
from decimal import Decimal

import pandas as pd
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
        datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": bad}, source={"v": 2}, force=True)
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


# ------------------------------------------------------------ the out-folder policy (issue 23, 4)
def _entries(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_non_empty_out_is_refused_without_force_and_nothing_is_written(tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(DataFolderError, match=r"--out .*d is not empty \(notes\.txt\); .*--force"):
        datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT}, source={})
    assert _entries(out) == ["notes.txt"] and _entries(tmp_path) == ["d"]
    (tmp_path / "f").write_text("a file")
    with pytest.raises(DataFolderError, match="is a file, not a folder"):
        datafolder.write_data_folder(tmp_path / "f", {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT}, source={}, force=True)
    assert (tmp_path / "f").read_text() == "a file"
    # an empty folder is no loss: written without --force
    (tmp_path / "e").mkdir()
    datafolder.write_data_folder(tmp_path / "e", {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT}, source={})
    assert datafolder.verify_manifest(tmp_path / "e") == []


def test_force_replaces_only_the_writers_own_files(tmp_path):
    out = tmp_path / "d"
    datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT}, source={"v": 1})
    (out / "notes.txt").write_text("keep me")
    (out / "scans").mkdir()
    (out / "scans" / "a.pdf").write_bytes(b"%PDF")
    (out / "cms_labels.parquet").write_bytes(b"not ours to delete")
    datafolder.write_data_folder(out, {"psn": PSN, "medins": {**MEDINS, "fixmedins_name": ["新名医院"]}, "mdtrt": MDTRT},
                                 source={"v": 2}, force=True)
    assert _entries(out) == ["cms_labels.parquet", "data_manifest.json", "mdtrt.parquet", "medins.parquet",
                             "notes.txt", "psn.parquet", "scans"]
    assert (out / "notes.txt").read_text() == "keep me" and (out / "scans" / "a.pdf").read_bytes() == b"%PDF"
    assert (out / "cms_labels.parquet").read_bytes() == b"not ours to delete"
    assert pq.read_table(out / "medins.parquet").column("fixmedins_name").to_pylist() == ["新名医院"]
    assert datafolder.read_manifest(out)["source"] == {"v": 2} and datafolder.verify_manifest(out) == []
    assert _entries(tmp_path) == ["d"]  # no .partial / .old folder left


def test_force_never_deletes_a_table_or_truth_it_does_not_write(tmp_path):
    out = tmp_path / "d"
    truth = pd.DataFrame({"case_id": ["C1"], "rule_id": ["r"]})
    datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT, "setl": SETL}, source={"v": 1}, truth=truth)
    before = {n: (out / n).read_bytes() for n in _entries(out)}
    with pytest.raises(DataFolderError, match=r"holds setl\.parquet, truth\.parquet, which this data folder does not write"):
        datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT}, source={"v": 2}, force=True)
    assert {n: (out / n).read_bytes() for n in _entries(out)} == before
    assert _entries(tmp_path) == ["d"]
    # a table stored the other way (fee.parquet beside a new fee/ folder) would be read instead: refused too
    datafolder.write_table(out, "fee", {"feedetl_sn": ["1"], "mdtrt_id": ["M1"], "psn_no": ["0001"],
                                        "fee_ocur_time": ["2024-03-01 09:05:00"], "med_list_codg": ["X"],
                                        "med_chrgitm_type": ["09"], "cnt": [2], "pric": ["3.50"],
                                        "det_item_fee_sumamt": ["7.00"], "bilg_dr_codg": ["D1"]})
    with pytest.raises(DataFolderError, match=r"holds fee\.parquet"):
        with datafolder.staged_folder(out, force=True) as tmp:
            for n in ("psn", "medins", "mdtrt", "setl"):
                datafolder.write_table(tmp, n, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT, "setl": SETL}[n])
            (tmp / "fee").mkdir()
            (tmp / "truth.parquet").write_bytes((out / "truth.parquet").read_bytes())
            datafolder.write_manifest(tmp, {"v": 3})
    assert (out / "fee.parquet").is_file() and not (out / "fee").exists()


def test_stale_partial_folders_of_a_dead_writer_are_removed_and_new_ones_are_private(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "d"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".d.partial-{pid}-abc123"
    stale.mkdir()
    (stale / "psn.parquet").write_text("certno 370102199001011234")
    old = tmp_path / f".d.old-{pid}-ff"
    old.mkdir()
    live = tmp_path / f".d.partial-{os.getpid()}-zzz"  # a writer that still runs: kept
    live.mkdir()
    other = tmp_path / f".e.partial-{pid}-abc"  # another out's: kept
    other.mkdir()
    modes = []
    with datafolder.staged_folder(out) as tmp:
        modes.append(tmp.stat().st_mode & 0o777)
        (tmp / "x").write_text("x")
    assert modes == [0o700]
    assert _entries(tmp_path) == sorted([live.name, other.name, "d"])
