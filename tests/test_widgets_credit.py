"""The credit look-up widget without a browser: set the kind and code, read what it shows."""
import pytest

pytest.importorskip("ipywidgets")

from widgets.credit import CreditLookup  # noqa: E402
from workbench import credit  # noqa: E402

from test_credit import BASE, DOCTORS, INSTITUTIONS  # noqa: E402
import pandas as pd  # noqa: E402


@pytest.fixture(scope="module")
def report():
    return credit.credit_report(pd.concat([INSTITUTIONS, DOCTORS]), base=BASE, as_of="2025-12-31")


def test_look_up_a_doctor_and_see_the_history(report):
    w = CreditLookup(report)
    assert (w.kind, w.code, w.found, w.current.value) == ("institution", "", False, "")
    w.kind_buttons.value = "doctor"
    w.code_box.value = "D1"
    assert (w.kind, w.code, w.found) == ("doctor", "D1", True)
    assert "终止医保支付资格 (terminated)" in w.current.value and "截至 2025-12-31" in w.current.value
    for fid in ["F01", "F02", "F03", "F04"]:
        assert fid in w.history.value
    assert "F05" not in w.history.value  # dismissed
    assert w.history.value.count("<tr>") == 4 and "变动后资格" in w.history.value  # 4 changes, labelled in Chinese


def test_look_up_an_institution_and_an_unknown_code(report):
    w = CreditLookup(report, code="H3")
    assert w.found and "信用等级" in w.current.value and "<td>D</td>" in w.current.value
    assert "6.00% of fund payments" in w.history.value
    w.code = "H9"
    assert not w.found and "无确认的违规记录" in w.current.value and "无变动记录" in w.history.value
    w.code = "D1"  # a doctor's code while looking at institutions
    assert not w.found
