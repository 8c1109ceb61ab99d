"""The suspicious-edge filter: keep the edges that show a ring's pattern, so the graph stays small.

Every test here is absolute evidence an auditor accepts on its own, the same in an extract of
three pharmacies as in a region of a million persons: counts, distinct days and weeks, and the
share of the doctor → pharmacy purchases made the day the patient saw the doctor. The lift over
chance (``n / (deg_a × deg_b / total)``) is relative to the data set — in a targeted extract,
where a ring is most of the volume, every edge has a lift near 1 — so it is no longer required
(``min_lift`` and ``min_patient_lift`` default to 0, off); it stays on the edges and the rings
for ranking and reading.

The doctor → pharmacy edges that pass are the *anchors* of the graph: a collusion ring moves
prescriptions from doctors to a pharmacy and brings its patients over on the day of the visit,
so a patient edge is kept only when the patient has same-day sequences on an anchor (bought at
the anchor's pharmacy the day they saw the anchor's doctor), on several days and weeks, and those
sequences are a real part of the patient's purchases (``min_patient_share``). A patient edge's
support and its weight in the graph are those sequences (``weight``), not all the patient's
visits: a patient's ordinary doctor and usual pharmacy do not pull them out of a ring, and a
doctor's regular patients whose refills carry the doctor's prescription to the same pharmacy do
not join it. Patients of ordinary doctors and pharmacies never enter the graph, however many
there are.

A same-day sequence can only be seen where the data holds the doctor's own visits. In an extract
of pharmacies (or one without the doctors' clinic) a doctor appears only as the prescriber on
purchases; for such an *unseen* doctor the prescriptions stand in for the sequences, with the
evidence the purchases themselves carry: most of the doctor's prescriptions at the pharmacy
filled as a basket another patient of the doctor also bought there (``min_unseen_basket_share``:
the identical baskets of a ring; an ordinary doctor's patients buy what each needs). Only those
prescriptions stand in, so a ring doctor's ordinary patients do not join the ring there either.
Without fee lines (no baskets) the test is the share of the doctor's prescriptions that go to the
pharmacy (``min_unseen_share``) and every prescription stands in. The same baskets also keep the
edge of a doctor whose visits *are* seen when it lacks same-day sequences (``min_basket_share``): a
ring whose patients buy the day after the visit is the same ring in the region as in an extract
of its pharmacies.

How strongly a candidate ring shows the pattern — shares, identical baskets, regularity — is
scored afterwards (:mod:`~workbench.rings.score`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import WorkbenchError
from .edgelist import EDGE_COLUMNS, LINKS, SEEN_DOCTORS, ensure_edges, sql_text
from .engines import engine_of

SUSPICIOUS = "rings_suspicious"


@dataclass(frozen=True)
class RingParams:
    """Parameters of the filter, the community detection and the other findings.

    Attributes
    ----------
    min_rx : int
        Doctor → pharmacy: least linked purchases (prescriptions filled or same-day sequences).
    min_rx_patients : int
        Doctor → pharmacy: least distinct patients behind them.
    min_same_day : int
        Doctor → pharmacy: least same-day sequences (purchases the day the patient saw the
        doctor). Prescriptions alone are how external prescriptions (外配处方) normally flow;
        a ring brings its patients from the doctor to the pharmacy on the day.
    min_same_day_share : float
        Doctor → pharmacy: least share of the linked purchases that are same-day sequences (a
        busy doctor's few coincidences of a visit and a refill on one day are not a pattern).
    min_basket_share : float
        Doctor → pharmacy, in data with fee lines: the alternative to the same-day tests — least
        share of the doctor's prescriptions at the pharmacy filled as a basket (items and net
        quantities) another patient of the doctor also bought there, with at least
        ``min_same_day`` of them (a ring whose patients buy a day or more after the visit shows
        no same-day sequence; an extract of the pharmacies alone finds it by these baskets).
        Above 1: off.
    min_unseen_share : float
        Doctor → pharmacy, for a doctor whose own visits are not in the data (no same-day sequence
        can be seen) in data without fee lines: least share of the doctor's prescriptions filled
        at the pharmacy.
    min_unseen_basket_share : float
        The same doctors, in data with fee lines: least share of their prescriptions at the
        pharmacy filled as a basket (items and net quantities) another patient of the doctor also
        bought there.
    min_lift : float
        Least lift over chance of a doctor → pharmacy edge. Relative to the data set (about 1
        for a ring in a targeted extract, where the ring is most of the volume), so 0 (off) by
        default; set it only to narrow a whole region's graph further.
    min_patient_events : int
        Patient edges: least same-day sequences on anchors with the doctor / at the pharmacy.
    min_patient_share : float
        Patient edges: least share of the patient's purchases (at any pharmacy) that those
        same-day sequences make up (three coincidences among a heavy buyer's hundred purchases
        are not a pattern).
    min_patient_lift : float
        Least lift of a patient edge (relative, like ``min_lift``; 0, off, by default).
    min_days : int
        Least distinct days of every kept edge (a one-day burst is not a relationship).
    min_weeks : int
        Least distinct calendar weeks of every kept edge (nor is a one-week burst).
    min_patients, min_doctors, min_pharmacies : int
        A community is a ring candidate when it has at least this many members of each kind.
    resolution : float
        Louvain resolution (higher gives smaller communities).
    join_share : float
        A community whose suspicious edge weight to the other communities is at least this share
        of the weight inside it is joined to the one it is most tied to (Louvain cuts a ring that
        sends to several pharmacies into one part per pharmacy; 0: not joined).
    card_pharmacies_per_day : int
        A person whose card is used at this many pharmacies or more on one day is reported.
    doctor_visits_per_day : int
        A doctor with more visits than this in one day (all institutions) is reported.
    """

    min_rx: int = 5
    min_rx_patients: int = 3
    min_same_day: int = 5
    min_same_day_share: float = 0.25
    min_basket_share: float = 0.5
    min_lift: float = 0.0
    min_unseen_share: float = 0.5
    min_unseen_basket_share: float = 0.5
    min_patient_events: int = 3
    min_patient_share: float = 0.2
    min_patient_lift: float = 0.0
    min_days: int = 2
    min_weeks: int = 2
    min_patients: int = 3
    min_doctors: int = 1
    min_pharmacies: int = 1
    resolution: float = 1.0
    join_share: float = 0.5
    card_pharmacies_per_day: int = 3
    doctor_visits_per_day: int = 80

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise WorkbenchError(f"rings: parameter {f.name} must be a number >= 0, got {v!r}")
            if f.type == "int" and int(v) != v:
                raise WorkbenchError(f"rings: parameter {f.name} must be a whole number, got {v!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None) -> "RingParams":
        """Params from a dict, naming any unknown key."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise WorkbenchError(f"rings: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)


def _filter_sql(p: RingParams, baskets: bool = True) -> str:
    """The filter's SQL; ``baskets``: the data has fee lines, so a doctor whose visits are not in the
    data is tested on identical baskets (without them, on the share of the doctor's prescriptions
    at the pharmacy)."""
    pcols = ", ".join(f"e.{c}" for c in EDGE_COLUMNS)
    week = "floor(DATE_DIFF('day', DATE '2000-01-03', day) / 7)"  # as in edge_counts.sql
    repeated = (f"count(DISTINCT mdtrt_id) >= {int(p.min_patient_events)} AND count(DISTINCT day) >= {int(p.min_days)}"
                f" AND count(DISTINCT {week}) >= {int(p.min_weeks)}")
    if baskets:
        keys = sql_text("basket_keys", purchases="SELECT mdtrt_id FROM rx")
        # two or more patients in a (doctor, pharmacy, basket) window: its least and greatest
        # psn_no differ (a window, not a join back on the basket text, which common baskets of
        # many doctors turn into tens of millions of rows; no DISTINCT window on Spark)
        stand_in = f"""bk AS ({keys}),
stand_in AS (  -- the prescriptions filled as a basket another patient bought on the same doctor's
               -- prescription at that pharmacy
    SELECT mdtrt_id, dr_code, fixmedins_code FROM (
        SELECT r.mdtrt_id, r.dr_code, r.fixmedins_code,
               min(r.psn_no) OVER (PARTITION BY r.dr_code, r.fixmedins_code, bk.basket) AS first_psn,
               max(r.psn_no) OVER (PARTITION BY r.dr_code, r.fixmedins_code, bk.basket) AS last_psn
        FROM rx r JOIN bk ON bk.mdtrt_id = r.mdtrt_id
    ) w WHERE first_psn <> last_psn
),"""
        # of the prescriptions at the pharmacy, the share that stand in: a doctor seen / unseen
        seen_share = f"si.k >= {float(p.min_basket_share)} * e.rx"
        unseen_share = f"si.k >= {float(p.min_unseen_basket_share)} * e.rx"
        rx_of = "TRUE"
    else:  # no baskets: an unseen doctor's prescriptions all stand in, tested on their share
        stand_in = "stand_in AS (SELECT mdtrt_id, dr_code, fixmedins_code FROM rx),"
        seen_share = "FALSE"
        unseen_share = f"e.share >= {float(p.min_unseen_share)}"
        rx_of = "u.dr_code IS NOT NULL"
    same_day_test = f"e.same_day >= {int(p.min_same_day)} AND e.same_day >= {float(p.min_same_day_share)} * e.n"
    return f"""
WITH unseen AS (  -- doctors whose own visits the data does not hold (an extract of pharmacies, or one
                  -- without their clinic): a same-day sequence with them cannot be seen
    SELECT DISTINCT dr_code FROM {LINKS}
    WHERE dr_code NOT IN ({SEEN_DOCTORS})
),
rx AS (  -- the purchases on a doctor's prescription (without fee lines: an unseen doctor's)
    SELECT l.mdtrt_id, l.psn_no, l.dr_code, l.fixmedins_code
    FROM {LINKS} l LEFT JOIN unseen u ON u.dr_code = l.dr_code WHERE l.rx AND {rx_of}
),
{stand_in}
stand_in_edges AS (
    SELECT dr_code, fixmedins_code, count(*) AS k FROM stand_in GROUP BY dr_code, fixmedins_code
),
candidates AS (  -- doctor -> pharmacy edges with the support and the same-day share of a ring, or
                 -- (any doctor) prescriptions at the pharmacy mostly filled as a basket another
                 -- patient of the doctor also bought there; of a doctor whose visits are unseen,
                 -- without fee lines: most of the doctor's prescriptions going to the pharmacy
    SELECT {pcols}, e.n AS weight
    FROM rings_edges e LEFT JOIN unseen u ON u.dr_code = e.a
    LEFT JOIN stand_in_edges si ON si.dr_code = e.a AND si.fixmedins_code = e.b
    WHERE e.kind = 'dr_pharmacy' AND e.n >= {int(p.min_rx)} AND e.patients >= {int(p.min_rx_patients)}
      AND e.days >= {int(p.min_days)} AND e.weeks >= {int(p.min_weeks)} AND e.lift >= {float(p.min_lift)}
      AND ((u.dr_code IS NULL AND {same_day_test})
           OR (si.k >= {int(p.min_same_day)}
               AND ((u.dr_code IS NULL AND {seen_share}) OR (u.dr_code IS NOT NULL AND {unseen_share}))))
),
sequences AS (  -- the same-day sequences on candidates: (patient, doctor, pharmacy, purchase, day);
                -- on a candidate kept by its baskets, not its same-day sequences (a doctor whose
                -- visits are unseen, or whose ring buys days after the visit), the prescriptions
                -- that stand in for them
    SELECT l.psn_no, l.dr_code, l.fixmedins_code, l.mdtrt_id, l.day
    FROM {LINKS} l JOIN candidates e ON e.a = l.dr_code AND e.b = l.fixmedins_code
    LEFT JOIN stand_in x ON x.mdtrt_id = l.mdtrt_id AND x.dr_code = l.dr_code
    WHERE l.same_day OR (x.mdtrt_id IS NOT NULL AND NOT ({same_day_test}))
),
bought AS (  -- every purchase of those patients, at any pharmacy
    SELECT a AS psn_no, max(deg_a) AS purchases FROM rings_edges
    WHERE kind = 'psn_pharmacy' AND a IN (SELECT psn_no FROM sequences)
    GROUP BY a
),
repeated AS (  -- (patient, pharmacy): brought over again and again, from any of the pharmacy's
               -- candidate doctors, on several days and weeks, a real part of the patient's purchases
    SELECT q.psn_no, q.fixmedins_code
    FROM sequences q JOIN bought b ON b.psn_no = q.psn_no
    GROUP BY q.psn_no, q.fixmedins_code, b.purchases
    HAVING {repeated} AND count(DISTINCT q.mdtrt_id) >= {float(p.min_patient_share)} * b.purchases
),
ring_sequences AS (  -- the sequences of those patients at that pharmacy
    SELECT q.* FROM sequences q
    JOIN repeated r ON r.psn_no = q.psn_no AND r.fixmedins_code = q.fixmedins_code
),
anchors AS (  -- candidates with enough such patients
    SELECT c.* FROM candidates c
    JOIN (SELECT dr_code, fixmedins_code FROM ring_sequences GROUP BY dr_code, fixmedins_code
          HAVING count(DISTINCT psn_no) >= {int(p.min_rx_patients)}) r ON r.dr_code = c.a AND r.fixmedins_code = c.b
),
on_anchor AS (
    SELECT q.* FROM ring_sequences q JOIN anchors x ON x.a = q.dr_code AND x.b = q.fixmedins_code
),
patient_edges AS (
    SELECT 'psn_dr' AS kind, psn_no AS a, dr_code AS b, count(DISTINCT mdtrt_id) AS w
    FROM on_anchor GROUP BY psn_no, dr_code HAVING {repeated}
    UNION ALL
    SELECT 'psn_pharmacy' AS kind, psn_no AS a, fixmedins_code AS b, count(DISTINCT mdtrt_id) AS w
    FROM on_anchor GROUP BY psn_no, fixmedins_code HAVING {repeated}
)
SELECT * FROM anchors
UNION ALL
SELECT {pcols}, x.w AS weight
FROM patient_edges x
JOIN rings_edges e ON e.kind = x.kind AND e.a = x.a AND e.b = x.b
WHERE e.lift >= {float(p.min_patient_lift)}
"""


def ensure_suspicious(session, params: RingParams) -> str:
    """Build the temporary table ``rings_suspicious`` for ``params`` (rebuilt on every call)."""
    eng = engine_of(session)
    ensure_edges(eng)
    eng.create(SUSPICIOUS, _filter_sql(params, baskets=eng.has("fee")))
    return SUSPICIOUS


def suspicious_edges(session, params: RingParams | None = None) -> "pd.DataFrame":  # noqa: F821
    """The edges kept by the filter, columns of :func:`workbench.rings.edgelist.edges`.

    Parameters
    ----------
    session : workbench.session.Session
    params : RingParams, optional

    Returns
    -------
    DataFrame
        The columns of :func:`workbench.rings.edgelist.edges` and ``weight`` (an anchor's linked
        purchases; a patient edge's same-day sequences on anchors). Anchors first, then patient edges;
        each block sorted by a, b.
    """
    eng = engine_of(session)
    t = ensure_suspicious(eng, params or RingParams())
    order = "CASE kind WHEN 'dr_pharmacy' THEN 0 WHEN 'psn_dr' THEN 1 ELSE 2 END, a, b"
    return eng.frame(f"SELECT * FROM {t} ORDER BY {order}")
