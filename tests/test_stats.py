"""workbench.stats (peer groups, robust z) and workbench.money: one definition each."""
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pytest

from workbench import money, stats
from workbench.errors import CaseError, WorkbenchError


def test_robust_z_mad_mean_ad_and_nulls():
    # MAD of [1,2,3,4,100] about 3 is 1 -> scale 1.4826
    assert stats.robust_z([3, 4.4826], [1, 2, 3, 4, 100]).tolist() == pytest.approx([0.0, 1.0])
    # MAD 0 (most peers alike): mean absolute deviation x 1.2533
    assert stats.robust_z([4, 0], [0, 0, 0, 4]).tolist() == pytest.approx([4 / 1.2533, 0.0])
    # every peer alike: 0 at the median, +/-inf elsewhere, a null value stays null
    z = stats.robust_z([1, 2, 0, np.nan], [1, 1])
    assert z[:3].tolist() == [0.0, np.inf, -np.inf] and np.isnan(z[3])
    # nulls in the reference are left out, not poisoning the median
    assert stats.robust_z([3], [1, 2, 3, 4, 100, np.nan]).tolist() == [0.0]
    assert np.isnan(stats.robust_z([1.0], [np.nan])).all()


def test_peer_key_python_and_sql_agree():
    inst = pd.DataFrame({"fixmedins_code": ["A", "B", "C", "D"], "fixmedins_type": ["1", "1", None, "2"],
                         "hosp_lv": ["2", None, "3", "9"]})
    py = stats.peer_key(inst).tolist()
    assert py == ["1-2", "1-?", "?-3", "2-9"]
    con = duckdb.connect()
    con.register("medins", inst)
    sql = con.execute(f"SELECT {stats.peer_key_sql()} FROM medins ORDER BY fixmedins_code").fetchall()
    assert [r[0] for r in sql] == py
    credit = con.execute(f"SELECT {stats.peer_key_sql(missing='', separator='×')} FROM medins "
                         "ORDER BY fixmedins_code").fetchall()
    assert [r[0] for r in credit] == ["1×2", "1×", "×3", "2×9"]


def test_small_groups_merge_into_their_type():
    inst = pd.DataFrame({"fixmedins_type": ["1"] * 6 + ["1", "1", "2"], "hosp_lv": ["3"] * 6 + ["1", "2", "9"]})
    out = stats.assign_peer_groups(inst, min_size=5)
    assert out.peer_group.tolist() == ["1-3"] * 6 + ["1-*", "1-*", "2-*"]
    assert out.peer_label.tolist()[-3:] == ["医疗机构·合并组", "医疗机构·合并组", "零售药店·合并组"]
    assert out.reference.tolist() == ["1-3"] * 6 + ["type:1", "type:1", "*"]


def test_every_sql_peer_group_is_the_stats_key():
    """The stays episodes and the cost-share rule group by exactly the stats key (no drift)."""
    from workbench.rules.loader import load_library
    from workbench import stays

    rule = load_library()["cost_share_outlier"]
    assert stats.peer_key_sql("m.fixmedins_type", "m.hosp_lv") + " AS peer_group" in rule.sql
    episodes = stays._episodes_sql(True)
    assert stats.peer_key_sql("i.fixmedins_type", "i.hosp_lv") + " AS peer_group" in episodes


def test_money_exact_and_lower_bound():
    assert money.to_fen("1,000.01") == 100001 and money.to_fen(Decimal("0.1")) == 10 and money.to_fen(" ") is None
    for bad in ["0.001", "-1", "abc", 1.5, "1e16"]:
        with pytest.raises(WorkbenchError):
            money.to_fen(bad)
    with pytest.raises(CaseError, match="fine"):
        money.to_fen("0.001", "fine", error=CaseError)
    assert money.to_fen_at_least("0.051") == 6 and money.to_fen_at_least("-1") == -100
    assert money.to_fen_at_least(0.05) == 5 and money.to_fen_at_least(None) is None
    with pytest.raises(WorkbenchError, match="minimum amount"):
        money.to_fen_at_least("12元")
    assert money.yuan(1234) == Decimal("12.34") and money.yuan(None) is None
    assert money.wan("61265000") == Decimal("6126.50") and money.wan(Decimal("49")) == Decimal("0.00")
