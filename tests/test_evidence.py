import pytest

import workbench
from workbench import datafolder
from workbench.errors import WorkbenchError
from workbench.evidence import evidence_rows, parse_keys

from test_datafolder import MDTRT, MEDINS, PSN, SETL

FEE = {"feedetl_sn": ["1", "2", "3"], "mdtrt_id": ["M1"] * 3, "psn_no": ["0001"] * 3,
       "fee_ocur_time": ["2024-03-01 09:05:00"] * 3, "med_list_codg": ["A", "B", "C"], "med_chrgitm_type": ["09"] * 3,
       "cnt": [1, 2, 3], "pric": ["1.00", "2.00", "3.00"], "det_item_fee_sumamt": ["1.00", "4.00", "9.00"], "bilg_dr_codg": ["D1"] * 3}


def test_parse_keys():
    assert parse_keys('["fee:M1/3", "mdtrt:M1", "stock:H1/X/2024-03"]') == {
        "fee": [("M1", "3")], "mdtrt": [("M1",)], "stock": [("H1", "X", "2024-03")]}
    with pytest.raises(WorkbenchError, match="'visit:M1'"):
        parse_keys(["visit:M1"])
    with pytest.raises(WorkbenchError, match="2 parts"):
        parse_keys(["fee:M1"])


def test_evidence_rows_fetches_exactly_those_rows_masked(tmp_path):
    d = tmp_path / "d"
    datafolder.write_data_folder(d, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT, "setl": SETL, "fee": FEE}, source={})
    with workbench.open(d) as s:
        rows = evidence_rows(s, ["fee:M1/3", "fee:M1/1", "psn:0001", "setl:S1"])
        assert rows["fee"]["feedetl_sn"].tolist() == ["1", "3"]
        assert rows["psn"]["certno"].tolist() == ["*" * 18] and rows["psn"]["brdy"].tolist() == ["1990-**-**"]
        assert rows["setl"]["setl_id"].tolist() == ["S1"]
        raw = evidence_rows(s, ["psn:0001"], include_pii=True)
        assert raw["psn"]["certno"].tolist() == ["370102199001011234"]
