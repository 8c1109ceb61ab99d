"""workbench.i18n: the message catalogue and the number formats of the dashboards."""
from __future__ import annotations

from decimal import Decimal

from workbench import i18n
from workbench.i18n import t


def test_every_message_has_both_languages():
    for key, entry in i18n.MESSAGES.items():
        assert set(entry) == {"zh", "en"}, key
        assert entry["zh"], key


def test_lookup_and_fallbacks():
    assert t("findings") == "发现疑点" and t("findings", "en") == "Findings"
    assert t("unit_institutions", "en") == ""  # an empty English unit is not replaced by the Chinese one
    assert t("no_such_key", "en") == "no_such_key"
    assert t("shown_of", "en", n="3", total="8", amount="¥1", shown=3).startswith("3 of 8 findings match")


def test_money_is_exact():
    assert i18n.wan(Decimal("61260000")) == Decimal("6126.00")
    assert i18n.wan("12345.67") == Decimal("1.23") and i18n.wan("15000") == Decimal("1.50")
    assert i18n.money(Decimal("7624747.44")) == "762.47 万元"
    assert i18n.money(Decimal("7624747.50"), "en") == "¥7,624,748"
    assert i18n.money(None) == "—"


def test_counts_and_categories():
    assert i18n.count(7216, "unit_institutions") == "7,216 家"
    assert i18n.count(7216, "unit_institutions", "en") == "7,216"
    assert i18n.category_label("pharmacy") == "定点零售药店"
    assert i18n.category_label("tertiary", "en") == "Tertiary hospitals"
    assert [i18n.category_label(c) for c in i18n.CATEGORIES][-1] == "未登记机构"
