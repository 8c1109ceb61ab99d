"""A short printed summary of a data folder: what is in it, in what period, and how much money."""
from __future__ import annotations

from . import session as _session


def summarize(sess) -> dict:
    """Headline figures of a data folder (all computed in SQL).

    Returns
    -------
    dict
        ``rows`` per table, ``period`` (first and last visit day), ``institutions`` by type,
        ``visits`` by med_type, ``medfee_sumamt`` and ``hifp_pay`` totals (Decimal, net of refunds)
        when settlements exist, and ``truth`` counts per scenario for synthetic data.
    """
    out = {"rows": sess.summary()}
    first, last = sess.one("SELECT min(CAST(begntime AS DATE)), max(CAST(endtime AS DATE)) FROM mdtrt")
    out["period"] = (first, last)
    out["institutions"] = dict(sess.rows("SELECT fixmedins_type, count(*) FROM medins GROUP BY 1 ORDER BY 1"))
    out["counties"] = sess.one("SELECT count(DISTINCT admdvs) FROM medins")[0]
    out["visits"] = dict(sess.rows("SELECT med_type, count(*) FROM mdtrt GROUP BY 1 ORDER BY 1"))
    if sess.has("setl"):
        med, fund = sess.one("SELECT sum(medfee_sumamt), sum(hifp_pay) FROM setl")
        out["medfee_sumamt"], out["hifp_pay"] = med, fund
    if sess.has("truth"):
        out["truth"] = dict(sess.rows("SELECT scenario, count(DISTINCT case_id) FROM truth GROUP BY 1 ORDER BY 1"))
    return out


def format_summary(s: dict, folder="") -> str:
    from .schema import FIXMEDINS_TYPE, MED_TYPE

    lines = [f"data folder {folder}".rstrip()]
    lines.append("  tables: " + ", ".join(f"{k} {v:,}" for k, v in s["rows"].items()))
    lines.append(f"  period: {s['period'][0]} – {s['period'][1]}")
    lines.append(f"  institutions ({s['counties']} counties): " + ", ".join(
        f"{FIXMEDINS_TYPE.get(k, k).split()[0]} {v:,}" for k, v in s["institutions"].items()))
    lines.append("  visits: " + ", ".join(f"{MED_TYPE.get(k, k).split()[0]} {v:,}" for k, v in s["visits"].items()))
    if "hifp_pay" in s:
        lines.append(f"  医疗费总额 total cost {s['medfee_sumamt']:,} yuan; 统筹基金支出 fund paid {s['hifp_pay']:,} yuan")
    if "truth" in s:
        lines.append(f"  planted cases: {sum(s['truth'].values()):,} in {len(s['truth'])} scenarios")
    return "\n".join(lines)


def register(s) -> None:
    """Declare the options of ``workbench summary`` on its parser (``workbench.cli`` assembles them)."""
    s.add_argument("data", metavar="DATA")


def cli_summary(args) -> int:
    with _session.open(args.data) as sess:
        print(format_summary(summarize(sess), args.data))
    return 0
