"""The path of a case (线索 → 核查 → 申诉 / 复核 → 确认或排除 → 处理), as pure functions of its events.

A case event is a dict ``{"seq", "kind", "subject", "on", "at", "by", "note", "data", "previous"}``:
``kind`` is ``open`` (``data``: institutions, source, findings) or ``act`` (``data``: the action
and its fields), ``subject`` the case id, ``on`` the date the thing happened (``at`` when it was
typed). :func:`case_state` folds a case's events into its state on a day; :func:`check_action`
says whether an action may follow, and why not. Nothing here touches the store.

Rules (《医疗保障基金使用监督管理条例》 for the fines):

- a case whose findings are all ``violation`` may be handled at once; any other case (a
  ``suspicious`` finding, or a lead without findings: a tip-off, a referral) must first be verified
  by a ``review`` (复核) or ``confirm``;
- ``rectified`` closes the earliest pending ``rectify``; a ``review`` closes pending appeals;
- a fine is a multiple of the loss: the money ordered back (``recover``) so far, else the
  findings' ``amount_at_risk``; 第三十八条 1–2 倍 (a loss of the fund), 第四十条 2–5 倍 (骗取:
  fraud), both ends included;
- a case is open on a day until it is dismissed, or until it is verified, has a handling action,
  and has no pending rectification or appeal (结案).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import CaseError

SOURCES = {"rule": "规则筛查", "providers": "机构画像", "rings": "团伙分析", "stays": "住院分析", "tipoff": "举报线索",
           "referral": "上级交办/部门移交", "campaign": "专项行动", "inspection": "现场检查发现"}
CASE_ACTIONS = {  # name -> 中文, in the order `workbench case act --action` lists them (its choices)
    "interview": "约谈", "rectify": "责令整改", "rectified": "整改完成", "revisit": "回头看",
    "appeal": "申诉", "review": "复核", "confirm": "确认违规", "dismiss": "排除",
    "recover": "追回基金", "fine": "罚款", "suspend": "暂停协议", "terminate": "解除协议",
    "doctor_points": "医师记分", "expose": "曝光", "refer": "移送",
}
VERIFYING = ("review", "confirm")
PROCESS = ("appeal", "review", "confirm", "dismiss")
HANDLING = tuple(a for a in CASE_ACTIONS if a not in PROCESS)
FINAL = ("interview", "recover", "fine", "suspend", "terminate", "doctor_points", "expose", "refer")
REFER_TO = {"police": "公安机关", "discipline": "纪检监察机关", "health": "卫生健康部门", "market": "市场监管部门"}
ARTICLES = {38: ("第三十八条", Decimal(1), Decimal(2)), 40: ("第四十条", Decimal(2), Decimal(5))}
MAX_POINTS = 12  # 医保医师记分: 12 points in a year end the doctor's service
FIELDS = {"amount": ("recover", "fine"), "due": ("rectify", "appeal"), "until": ("suspend",), "to": ("refer",),
          "doctor": ("doctor_points",), "points": ("doctor_points",), "article": ("fine",)}


def parse_day(value, what="date") -> str:
    """``YYYY-MM-DD`` of a date or text (None: today); a CaseError naming ``what`` otherwise."""
    if value is None:
        return _dt.date.today().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    try:
        return _dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise CaseError(f"{what} {value!r}: write it as YYYY-MM-DD") from None


@dataclass
class CaseState:
    """A case on a day: what it is about and where it stands."""

    case_id: str
    opened_on: str = ""
    source: str = ""
    institutions: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    verified: bool = False
    confirmed_on: str = None
    dismissed_on: str = None
    actions: list = field(default_factory=list)  # the act events, oldest first
    rectifications: list = field(default_factory=list)  # {"seq", "on", "due", "done_on"}
    appeals: list = field(default_factory=list)  # {"seq", "on", "due", "reviewed_on"}
    recovered_fen: int = 0
    fined_fen: int = 0
    suspended: list = field(default_factory=list)  # (from, until)
    terminated_on: str = None

    @property
    def loss_fen(self) -> int:
        """The loss a fine multiplies: money ordered back so far, else the findings' amount at risk."""
        if self.recovered_fen:
            return self.recovered_fen
        return sum(int(Decimal(f["amount_at_risk"]) * 100) for f in self.findings if f.get("amount_at_risk"))

    @property
    def fraud(self) -> bool:
        """True when a finding was flagged as fraud (``severity: fraud``) or the case went to the police."""
        return any(f.get("fraud") for f in self.findings) or any(
            a["data"].get("to") == "police" for a in self.actions if a["data"]["action"] == "refer")

    def pending(self) -> list:
        """What the case waits for: ``(due or None, what)`` for each pending rectification and appeal."""
        out = [(r["due"], "rectify") for r in self.rectifications if r["done_on"] is None]
        return out + [(a["due"], "appeal") for a in self.appeals if a["reviewed_on"] is None]

    def is_open(self) -> bool:
        """Open until dismissed, or until verified, handled and nothing pending (结案)."""
        if self.dismissed_on:
            return False
        handled = any(a["data"]["action"] in FINAL for a in self.actions)
        return not (self.verified and handled and not self.pending())

    def next_deadline(self):
        """The earliest due date of what is pending, or None."""
        dues = [d for d, _ in self.pending() if d]
        return min(dues) if dues else None

    def done(self, action) -> list:
        return [a for a in self.actions if a["data"]["action"] == action]


def case_state(events, as_of=None, case_id="") -> CaseState:
    """Fold a case's events (oldest first) into its state, counting only those ``on`` or before ``as_of``
    (``case_id`` names the state of a case without events)."""
    events = [e for e in events if as_of is None or e["on"] <= as_of]
    opening = next((e for e in events if e["kind"] == "open"), None)
    if opening is None:
        return CaseState(case_id=events[0]["subject"] if events else case_id)
    d = opening["data"]
    st = CaseState(case_id=opening["subject"], opened_on=opening["on"], source=d["source"],
                   institutions=list(d["institutions"]), findings=list(d.get("findings", [])))
    st.verified = bool(st.findings) and all(f.get("result_type") == "violation" for f in st.findings)
    for e in events:
        if e["kind"] != "act":
            continue
        a, on = e["data"], e["on"]
        name = a["action"]
        st.actions.append(e)
        if name in VERIFYING:
            st.verified = True
            for ap in st.appeals:
                if ap["reviewed_on"] is None:
                    ap["reviewed_on"] = on
        if name == "confirm":
            st.confirmed_on = st.confirmed_on or on
        elif name == "dismiss":
            st.dismissed_on = on
        elif name == "appeal":
            st.appeals.append({"seq": e["seq"], "on": on, "due": a.get("due"), "reviewed_on": None})
        elif name == "rectify":
            st.rectifications.append({"seq": e["seq"], "on": on, "due": a["due"], "done_on": None})
        elif name == "rectified":
            open_ = [r for r in st.rectifications if r["done_on"] is None]
            if open_:
                open_[0]["done_on"] = on
        elif name == "recover":
            st.recovered_fen += a["amount_fen"]
        elif name == "fine":
            st.fined_fen += a["amount_fen"]
        elif name == "suspend":
            st.suspended.append((on, a["until"]))
        elif name == "terminate":
            st.terminated_on = on
    return st


def check_action(st: CaseState, action: str, on: str, fields: dict, today=None) -> dict:
    """The ``data`` of an act event after checking that it may follow ``st``; a CaseError saying why not.

    ``fields`` holds the options given (``amount_fen``, ``due``, ``until``, ``to``, ``doctor``,
    ``points``, ``article``; None when not given).
    """
    cid = st.case_id
    if action not in CASE_ACTIONS:
        raise CaseError(f"unknown action {action!r} (actions: {', '.join(CASE_ACTIONS)})")
    zh = f"{action} ({CASE_ACTIONS[action]})"
    for opt, allowed in FIELDS.items():
        key = "amount_fen" if opt == "amount" else opt
        if fields.get(key) is not None and action not in allowed:
            raise CaseError(f"{cid}: --{opt} is for {' and '.join(allowed)}, not {action}")
    if not st.opened_on:
        raise CaseError(f"no case {cid!r} (open one with `workbench case open`)")
    if on < st.opened_on:
        raise CaseError(f"{cid}: {zh} on {on} is before the case was opened ({st.opened_on})")
    if on > (today or _dt.date.today().isoformat()):
        raise CaseError(f"{cid}: {zh} on {on} is in the future: --on is the date it happened")
    if st.dismissed_on:
        raise CaseError(f"{cid}: the case was dismissed on {st.dismissed_on}; nothing follows a dismissal")
    if action in HANDLING and not st.verified:
        raise CaseError(f"{cid}: {zh} before the case is verified: a suspicious finding or a lead without findings "
                        "needs a review (复核) or confirm first")
    data = {"action": action}
    if action == "dismiss":
        done = sorted({a["data"]["action"] for a in st.actions} & {"recover", "fine", "suspend", "terminate", "expose",
                                                                     "refer", "doctor_points"})
        if done:
            raise CaseError(f"{cid}: cannot dismiss a case already handled ({', '.join(done)})")
    elif action in ("recover", "fine"):
        if not fields.get("amount_fen"):
            raise CaseError(f"{cid}: {zh} needs --amount YUAN, more than 0")
        data["amount_fen"] = fields["amount_fen"]
        if action == "fine":
            data.update(_fine_article(st, fields["amount_fen"], fields.get("article")))
    elif action == "rectify":
        if not fields.get("due"):
            raise CaseError(f"{cid}: {zh} needs --due DATE, the deadline of the rectification")
        if fields["due"] < on:
            raise CaseError(f"{cid}: rectification due {fields['due']} is before it was ordered ({on})")
        data["due"] = fields["due"]
    elif action == "appeal":
        if fields.get("due"):
            if fields["due"] < on:
                raise CaseError(f"{cid}: appeal review due {fields['due']} is before the appeal ({on})")
            data["due"] = fields["due"]
    elif action == "rectified":
        pend = [r for r in st.rectifications if r["done_on"] is None]
        if not pend:
            raise CaseError(f"{cid}: rectified (整改完成) but no rectification is pending (record rectify first)")
        if on < pend[0]["on"]:
            raise CaseError(f"{cid}: rectified on {on}, before the rectification was ordered ({pend[0]['on']})")
    elif action == "suspend":
        if not fields.get("until"):
            raise CaseError(f"{cid}: {zh} needs --until DATE, the last day of the suspension")
        if fields["until"] < on:
            raise CaseError(f"{cid}: suspension until {fields['until']} ends before it starts ({on})")
        if st.terminated_on:
            raise CaseError(f"{cid}: the agreement was terminated on {st.terminated_on}; it cannot be suspended")
        data["until"] = fields["until"]
    elif action == "terminate":
        if st.terminated_on:
            raise CaseError(f"{cid}: the agreement was already terminated on {st.terminated_on}")
    elif action == "refer":
        if fields.get("to") not in REFER_TO:
            raise CaseError(f"{cid}: {zh} needs --to, one of {', '.join(REFER_TO)}")
        data["to"] = fields["to"]
    elif action == "doctor_points":
        doctor, points = fields.get("doctor"), fields.get("points")
        if not doctor or points is None:
            raise CaseError(f"{cid}: {zh} needs --doctor DR_CODE and --points N")
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_POINTS:
            raise CaseError(f"{cid}: --points {points!r}: a whole number from 1 to {MAX_POINTS}")
        data.update(doctor=str(doctor), points=points)
    return data


def _fine_article(st: CaseState, amount_fen: int, article=None) -> dict:
    """The article, the loss and the multiple of a fine, checked against the article's range."""
    if article is None:
        article = 40 if st.fraud else 38
    if article not in ARTICLES:
        raise CaseError(f"{st.case_id}: --article {article}: the fines of the regulation are 第三十八条 (38) and 第四十条 (40)")
    name, low, high = ARTICLES[article]
    loss = st.loss_fen
    if loss <= 0:
        raise CaseError(f"{st.case_id}: a fine is a multiple of the loss, and this case has none: record recover "
                        "(追回) first or open the case with its findings")
    multiple = Decimal(amount_fen) / Decimal(loss)
    if not low <= multiple <= high:
        raise CaseError(f"{st.case_id}: a fine of {Decimal(amount_fen) / 100:.2f} yuan is {multiple:.6f} times the loss of "
                        f"{Decimal(loss) / 100:.2f} yuan; 《医疗保障基金使用监督管理条例》{name} allows {low}–{high} times "
                        f"(from {Decimal(loss) * low / 100:.2f} to {Decimal(loss) * high / 100:.2f} yuan)")
    return {"article": article, "article_zh": f"《医疗保障基金使用监督管理条例》{name}", "loss_fen": loss,
            "multiple": str(multiple.quantize(Decimal("0.0001")))}
