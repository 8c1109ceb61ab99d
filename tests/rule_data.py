"""Tiny hand-built data folders for rule tests: state only what matters, defaults fill the rest.

Example::

    d = Claims()
    d.visit("M1", "P1", "H1", med_type="21", begn="2024-03-01", end="2024-03-05", medfee="1000", hifp="700")
    d.fee("M1", "X1", cnt=2, pric="10.01", chrgitm="05")
    session = d.open(tmp_path)

Persons and institutions a visit names are created with defaults when they were not declared;
catalogue items are not (a charge for an undeclared item is a charge outside the catalogue). Every visit gets one settlement (``S<mdtrt_id>``) with its
``medfee`` and ``hifp``; ``refund=True`` adds a reversal row with the negative amounts.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

import workbench
from workbench import datafolder, schema

CENT = Decimal("0.01")


def share(amount, hifp, medfee) -> Decimal:
    """The fund share of an amount, rounded half up to cents as the rules do per line."""
    return (Decimal(str(amount)) * Decimal(str(hifp)) / Decimal(str(medfee))).quantize(CENT, rounding=ROUND_HALF_UP)


def _ts(text):
    return pd.Timestamp(text)


class Claims:
    """An in-memory region: add rows with defaults, then ``write`` or ``open`` a data folder."""

    def __init__(self):
        self.rows = {name: [] for name in schema.TABLE_ORDER}
        self._visits = {}
        self._sn = {}
        self._empty = set()

    # -- master data -----------------------------------------------------------------------
    def person(self, psn_no, gend="1", brdy="1980-06-15", certno=None, death_date=None, insutype="390",
               insuplc_admdvs="370800"):
        if any(r["psn_no"] == psn_no for r in self.rows["psn"]):
            return self
        self.rows["psn"].append({"psn_no": psn_no, "certno": certno or f"ID{psn_no}", "psn_name": f"N{psn_no}",
                                 "gend": gend, "brdy": brdy, "insutype": insutype, "insuplc_admdvs": insuplc_admdvs,
                                 "death_date": death_date})
        return self

    def institution(self, code, type="1", level="2", admdvs="370811"):
        if any(r["fixmedins_code"] == code for r in self.rows["medins"]):
            return self
        self.rows["medins"].append({"fixmedins_code": code, "fixmedins_name": f"机构{code}", "fixmedins_type": type,
                                    "hosp_lv": level, "admdvs": admdvs, "agrmt_stas": "active"})
        return self

    def doctor(self, dr_code, fixmedins_code, dr_type="doctor"):
        self.rows["dr"].append({"dr_code": dr_code, "dr_name": f"医{dr_code}", "fixmedins_code": fixmedins_code,
                                "dept_codg": "A01", "dr_type": dr_type})
        return self

    def item(self, code, chrgitm="09", cap=None, lmt_gend=None, age_min=None, age_max=None, lmt_dise=None,
             lmt_hosp_lv=None, max_daily_cnt=None, per_day=False, tcm_therapy=False):
        self.rows["list"] = [r for r in self.rows["list"] if r["med_list_codg"] != code]
        self.rows["list"].append({"med_list_codg": code, "list_name": f"项目{code}", "med_chrgitm_type": chrgitm,
                                  "pric_uplmt_amt": cap, "lmt_gend": lmt_gend, "lmt_age_min": age_min,
                                  "lmt_age_max": age_max, "lmt_dise": lmt_dise, "lmt_hosp_lv": lmt_hosp_lv,
                                  "max_daily_cnt": max_daily_cnt, "per_day": per_day, "tcm_therapy": tcm_therapy})
        return self

    def incl(self, parent, *children):
        for c in children:
            self.rows["list_incl"].append({"parent_codg": parent, "child_codg": c})
        return self

    def spell(self, psn_no, certno, begndate, enddate=None, insutype="390"):
        self.rows["insu"].append({"psn_no": psn_no, "certno": certno, "insutype": insutype,
                                  "insuplc_admdvs": "370800", "begndate": begndate, "enddate": enddate})
        return self

    def stock(self, fixmedins_code, item, period, inv_begn=0, purc_cnt=0, purc_pric="1.00", sale_cnt=None, inv_end=0):
        self.rows["stock"].append({"fixmedins_code": fixmedins_code, "med_list_codg": item, "period": period,
                                   "inv_begn": inv_begn, "purc_cnt": purc_cnt, "purc_pric": purc_pric,
                                   "sale_cnt": sale_cnt if sale_cnt is not None else 0, "inv_end": inv_end})
        return self

    # -- claims ------------------------------------------------------------------------------
    def visit(self, mdtrt_id, psn_no="P1", fixmedins_code="H1", med_type="11", begn="2024-03-01 09:00:00",
              end=None, dise="J06.900", dr="D1", medfee="100.00", hifp="70.00", refund=False, settle=True):
        self.person(psn_no)
        self.institution(fixmedins_code)
        begn_ts = _ts(begn)
        end_ts = _ts(end) if end is not None else begn_ts
        if end is not None and len(str(end)) <= 10:
            end_ts = end_ts + pd.Timedelta(hours=10)
        self.rows["mdtrt"].append({"mdtrt_id": mdtrt_id, "psn_no": psn_no, "fixmedins_code": fixmedins_code,
                                   "med_type": med_type, "begntime": begn_ts, "endtime": end_ts, "dise_codg": dise,
                                   "dise_name": f"诊断{dise}", "atddr_no": dr, "dept_codg": "A01"})
        self._visits[mdtrt_id] = {"psn_no": psn_no, "fixmedins_code": fixmedins_code, "begn": begn_ts}
        if settle:
            self.settle(mdtrt_id, f"S{mdtrt_id}", medfee, hifp)
            if refund:
                self.settle(mdtrt_id, f"R{mdtrt_id}", -Decimal(str(medfee)), -Decimal(str(hifp)), refund=True)
        return self

    def settle(self, mdtrt_id, setl_id, medfee, hifp, refund=False, time=None):
        """One settlement row, dated ``time`` (default: the visit's start)."""
        v = self._visits[mdtrt_id]
        medfee, hifp = Decimal(str(medfee)), Decimal(str(hifp))
        self.rows["setl"].append({"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": v["psn_no"],
                                  "fixmedins_code": v["fixmedins_code"], "setl_time": _ts(time) if time is not None else v["begn"],
                                  "medfee_sumamt": medfee, "hifp_pay": hifp, "acct_pay": Decimal("0"),
                                  "psn_cash_pay": medfee - hifp, "fund_pay_sumamt": hifp,
                                  "refd_setl_flag": "1" if refund else "0"})
        return self

    def fee(self, mdtrt_id, item="X1", cnt=1, pric="10.00", time=None, chrgitm=None, sn=None, dr="D1", amount=None):
        """One charge line; ``time`` defaults to the visit's start, ``chrgitm`` to the item's type."""
        v = self._visits[mdtrt_id]
        if chrgitm is None:
            chrgitm = next((r["med_chrgitm_type"] for r in self.rows["list"] if r["med_list_codg"] == item), "09")
        if sn is None:
            self._sn[mdtrt_id] = self._sn.get(mdtrt_id, 0) + 1
            sn = str(self._sn[mdtrt_id])
        pric = Decimal(str(pric))
        total = Decimal(str(amount)) if amount is not None else (pric * Decimal(str(cnt))).quantize(CENT)
        self.rows["fee"].append({"feedetl_sn": sn, "mdtrt_id": mdtrt_id, "psn_no": v["psn_no"],
                                 "fee_ocur_time": _ts(time) if time is not None else v["begn"],
                                 "med_list_codg": item, "med_chrgitm_type": chrgitm, "cnt": float(cnt), "pric": pric,
                                 "det_item_fee_sumamt": total, "bilg_dr_codg": dr, "bilg_dept_codg": "A01"})
        return self

    # -- output ------------------------------------------------------------------------------
    def frames(self) -> dict:
        """Contract tables: psn, medins, mdtrt always; others when a row was added or ``with_empty``."""
        out = {}
        for name in schema.TABLE_ORDER:
            rows = self.rows[name]
            if not rows and name not in schema.REQUIRED_TABLES and name not in self._empty:
                continue
            cols = schema.TABLES[name].column_names
            out[name] = pd.DataFrame(rows, columns=cols) if rows else pd.DataFrame({c: [] for c in cols})
        return out

    def with_empty(self, *names):
        """Make tables present even when no row was added (an empty catalogue, ledger, ...)."""
        self._empty.update(names)
        return self

    def write(self, folder):
        datafolder.write_data_folder(folder, self.frames(), source={"kind": "test"})
        return folder

    def open(self, tmp_path, name="data"):
        return workbench.open(self.write(tmp_path / name))


def day(base: str, offset: int, hour: int = 9) -> str:
    """``base`` plus ``offset`` days, as a timestamp text at ``hour`` o'clock."""
    d = dt.date.fromisoformat(base) + dt.timedelta(days=offset)
    return f"{d.isoformat()} {hour:02d}:00:00"


# -- rule cases as data (tests/rule_cases/<rule_id>.yaml) --------------------------------------
RULE_CASES_DIR = __import__("pathlib").Path(__file__).parent / "rule_cases"
_STEPS = ("person", "institution", "doctor", "item", "incl", "spell", "stock", "visit", "settle", "fee")


def claims_from_steps(steps, where="") -> Claims:
    """A :class:`Claims` built from a rule case's ``data``: a list of one-key mappings
    ``{method: {argument: value}}`` naming a builder method and its arguments, plus
    ``{repeat: {n, every_days, visit: {...}, fee: [{...}]}}``: ``n`` visits ``every_days`` apart,
    ``mdtrt_id`` suffixed ``-01``, ``-02``, …, each with the given charge lines."""
    d = Claims()
    for step in steps:
        if not isinstance(step, dict) or len(step) != 1:
            raise ValueError(f"{where}: a data step is one mapping {{method: arguments}}, got {step!r}")
        (name, args), = step.items()
        if name == "repeat":
            base = dict(args["visit"])
            start = str(base.pop("begn", "2024-03-01 09:00:00"))
            date, _, clock = start.partition(" ")
            hour = int((clock or "09").split(":")[0])
            for i in range(int(args["n"])):
                mid = f"{base['mdtrt_id']}-{i + 1:02d}"
                d.visit(**{**base, "mdtrt_id": mid, "begn": day(date, i * int(args.get("every_days", 1)), hour)})
                for line in args.get("fee") or []:
                    d.fee(mid, **line)
            continue
        if name not in _STEPS:
            raise ValueError(f"{where}: unknown data step {name!r} (known: {', '.join(_STEPS)}, repeat)")
        if name == "incl":
            d.incl(args["parent"], *args["children"])
        else:
            getattr(d, name)(**args)
    return d


def load_rule_cases(rule_id):
    """The firing case and the near miss of ``rule_id`` (``tests/rule_cases/<rule_id>.yaml``)."""
    import yaml

    path = RULE_CASES_DIR / f"{rule_id}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc.get("rule") == rule_id, f"{path}: rule must be {rule_id}"
    assert set(doc) >= {"fires", "near_miss"}, f"{path}: needs both fires and near_miss"
    return doc
