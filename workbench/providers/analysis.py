"""Who is an outlier among comparable providers, why, and whom to inspect first.

:func:`profile_providers` runs the whole chain on a session and returns a
:class:`ProviderProfiles` (what the CLI writes and the widgets show):

1. profiles in SQL (:mod:`.profiles`, on DuckDB or Spark: ``engine``), plus rule-hit measures
   when findings are given;
2. peer groups and robust z against them (:mod:`.peers`);
3. the detector matrix: the scored measures' z turned so that "higher is more suspicious"
   (a ``LOW`` measure is negated, an ``EITHER`` one taken absolute), the harmless side weighted
   0.3 (:data:`HARMLESS_WEIGHT`), nulls at 0, clipped at ``z_clip``, then each row weighted by
   its credibility ``visits / (visits + CREDIBILITY_VISITS)``: a rate from 3 claims is mostly
   noise, one from 3,000 is evidence; volume itself is never in the matrix;
4. an ensemble of isolation forest, local outlier factor and robust z on that matrix
   (:mod:`.detectors`) gives ``risk_score`` in (0, 1] (the size-neutral view), and its
   ``labels_`` the ``outlier`` flag;
5. ``priority`` = exposure x ``risk_score``: the fund money an inspection is expected to put
   right (:func:`inspection_priority`), ``priority_rank`` 1 = inspect first;
6. k-means clusters and a PCA map within each peer group on the signed z (:mod:`.clusters`);
7. reasons: the exposure, then the top 3 measures by |z| in words (:mod:`.reasons`).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import WorkbenchError
from ..truth import DEFAULT_SEED, check_seed
from . import clusters, peers, profiles, reasons
from . import evaluate as _evaluation
from .detectors import default_ensemble
from .measures import BY_NAME, EITHER, LOW, MEASURES, SCORED

LEAD_COLUMNS = ["fixmedins_code", "peer_group", "cluster", "risk_score", "priority", "priority_rank", "reasons"]
MEASURE_COLUMNS = [m.name for m in MEASURES]
TRAIL_COLUMNS = ["fixmedins_name", "fixmedins_type", "hosp_lv", "admdvs", "peer_label", "peer_basis",
                 "outlier", "rank", "intensity", "reasons_en"]
Z_CLIP = 10.0
# Deviations on the harmless side (cheaper, fewer tests than the peers) count at this weight: an
# audit looks for the expensive side, yet cutting them to exactly 0 ties most rows at the origin,
# and exact ties break density-based detectors (LOF divides by near-zero distances).
HARMLESS_WEIGHT = 0.3
DOCTOR_MIN_VISITS = 20
# A provider's deviations count in proportion visits / (visits + this): at this many visits a rate
# is half credible (the same number below which a doctor's rates are too noisy to compare).
CREDIBILITY_VISITS = 20
VIEWS = ("priority", "risk_score")


def _session(data):
    from ..session import Session

    return data if isinstance(data, Session) else Session(data)


def credibility(visits, credibility_visits: float = CREDIBILITY_VISITS) -> np.ndarray:
    """``visits / (visits + credibility_visits)``: how far a provider's rates are evidence rather
    than chance (0 without visits, 0.5 at ``credibility_visits``, towards 1 for large providers)."""
    n = np.nan_to_num(np.asarray(visits, dtype=float), nan=0.0)
    return n / (n + credibility_visits) if credibility_visits > 0 else np.ones_like(n)


def detector_matrix(z: pd.DataFrame, scored, z_clip: float = Z_CLIP, harmless_weight: float = HARMLESS_WEIGHT,
                    weight=None) -> pd.DataFrame:
    """The "suspicious direction" matrix the detectors fit (see the module): z turned so that
    higher is more suspicious, the harmless side scaled by ``harmless_weight``, nulls at 0,
    clipped at +/- ``z_clip``, each row multiplied by ``weight`` (its credibility) when given."""
    cols = {}
    for name in scored:
        d = BY_NAME[name].direction
        v = z[name].to_numpy(dtype=float)
        v = np.abs(v) if d == EITHER else -v if d == LOW else v
        v = np.nan_to_num(v, nan=0.0, posinf=z_clip, neginf=-z_clip)
        cols[name] = np.clip(np.where(v > 0, v, harmless_weight * v), -z_clip, z_clip)
    out = pd.DataFrame(cols, index=z.index)
    return out if weight is None else out.mul(np.asarray(weight, dtype=float), axis=0)


def exposure(frame: pd.DataFrame) -> np.ndarray:
    """What the fund paid each provider (``hifp_total``, yuan; 0 where it has no settlement); the
    number of visits when the data has no money at all (no ``setl``)."""
    fund = pd.to_numeric(frame["hifp_total"], errors="coerce").astype(float) if "hifp_total" in frame else None
    if fund is None or fund.isna().all():
        return frame["visits"].to_numpy(dtype=float)
    return fund.fillna(0.0).clip(lower=0.0).to_numpy()


#: The case-mix indices whose ratio to the peer median makes the exposure case-mix aware.
INTENSITY_MEASURES = ("cost_index", "los_index")


def case_mix_intensity(frame: pd.DataFrame, medians: pd.DataFrame, measures=INTENSITY_MEASURES) -> np.ndarray:
    """How much more each yuan of the provider buys than its diagnoses do at its peers.

    The geometric mean, over the case-mix indices it has (:data:`INTENSITY_MEASURES`: the bill
    and the length of stay against what the same diagnosis categories cost and last in the
    region), of the index over its peer group's median; 1 where it has none (a pharmacy, an
    institution without stays). A hospital whose stays are twice as long as its case mix
    predicts, where its peers' are as predicted, has an intensity of about 1.4.
    """
    logs, counts = np.zeros(len(frame)), np.zeros(len(frame))
    for name in measures:
        if name not in frame.columns or name not in medians.columns:
            continue
        v = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        m = pd.to_numeric(medians[name], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(v) & np.isfinite(m) & (v > 0) & (m > 0)
        logs[ok] += np.log(v[ok] / m[ok])
        counts[ok] += 1
    return np.exp(np.divide(logs, counts, out=np.zeros_like(logs), where=counts > 0))


def inspection_priority(exposure_values, abnormality, intensity=None) -> np.ndarray:
    """Expected recovery: ``exposure x intensity x abnormality``.

    Parameters
    ----------
    exposure_values : array
        What the fund paid (:func:`exposure`).
    abnormality : array
        Probability-like, in [0, 1]: the ``risk_score`` (the share of providers ranked no more
        abnormal by the detectors on credibility-weighted deviations).
    intensity : array, optional
        :func:`case_mix_intensity` (default 1): the exposure made case-mix aware, so that of two
        providers paid the same, the one whose bills and stays run longer than its diagnoses
        warrant (more of each yuan is in question) comes first.

    Returns
    -------
    ndarray
        Higher = inspect first. A provider twice the size with the same abnormality has twice
        the priority; of two with the same exposure the more abnormal comes first.
    """
    e, a = np.asarray(exposure_values, dtype=float), np.asarray(abnormality, dtype=float)
    if ((a < 0) | (a > 1)).any():
        raise ValueError("abnormality must be in [0, 1]")
    k = np.ones_like(e) if intensity is None else np.asarray(intensity, dtype=float)
    if (~np.isfinite(k) | (k <= 0)).any():
        raise ValueError("intensity must be positive")
    return e * k * a


def cluster_matrix(z: pd.DataFrame, scored, z_clip: float = Z_CLIP) -> pd.DataFrame:
    """Signed z of the scored measures, nulls at 0 (the peer median), clipped at +/- ``z_clip``."""
    return z[list(scored)].fillna(0.0).clip(-z_clip, z_clip)


def _scored(frame: pd.DataFrame, scored) -> list:
    chosen = list(SCORED if scored is None else scored)
    bad = [s for s in chosen if s not in BY_NAME]
    if bad:
        raise WorkbenchError(f"providers: unknown measure(s) {', '.join(bad)}; known: {', '.join(BY_NAME)}")
    return [s for s in chosen if s in frame.columns and frame[s].notna().any()]


def _medians(frame: pd.DataFrame, stats: pd.DataFrame, columns) -> pd.DataFrame:
    wide = stats.pivot(index="reference", columns="measure", values="median")
    return wide.reindex(index=frame["reference"].to_numpy(), columns=list(columns)).set_axis(frame.index)


def score_frame(frame: pd.DataFrame, scored, seed, contamination: float, z_clip: float, detector=None) -> dict:
    """Standardise, score and explain the rows of ``frame`` (with peer columns); a dict of parts."""
    columns = profiles.measure_columns(frame)
    z, stats = peers.standardise(frame, columns, {c: BY_NAME[c].scale_floor for c in columns})
    med = _medians(frame, stats, columns)
    use = _scored(frame, scored)
    if not use:
        raise WorkbenchError("providers: no scored measure has a value; nothing to compare")
    det = detector if detector is not None else default_ensemble(seed, contamination)
    det.fit(detector_matrix(z, use, z_clip, weight=credibility(frame["visits"])).to_numpy())
    rows = list(zip(frame[use].apply(pd.to_numeric, errors="coerce").to_dict("records"),
                    med[use].to_dict("records"), z[use].to_dict("records")))
    texts = {lang: [reasons.reasons_text(v, m, zz, lang) for v, m, zz in rows] for lang in ("zh", "en")}
    return {"z": z, "stats": stats, "medians": med, "scored": use, "detector": det, "reasons": texts}


def profile_providers(data, findings=None, seed: int = DEFAULT_SEED, peer_by=peers.PEER_KEYS,
                      min_peer_size: int = peers.MIN_PEER_SIZE, scored=None, detector=None,
                      contamination: float = 0.05, z_clip: float = Z_CLIP, engine: str = "duckdb", spark=None,
                      **params) -> "ProviderProfiles":
    """Profile, compare, cluster and score every institution of a data folder.

    Parameters
    ----------
    data : Session or path
    findings : DataFrame, audit result, run folder or path, optional
        Rule findings; add ``findings_per_1000`` and ``fund_at_risk_share`` (scored).
    seed : int
        Seeds the isolation forest and k-means: the same seed gives the same scores.
    peer_by : sequence of str
        ``medins`` columns of a peer group (default type x level; add ``"admdvs"`` for county).
    min_peer_size : int
        Smaller groups merge into their type's group (:mod:`.peers`).
    scored : sequence of str, optional
        Measures that drive the score (default :data:`~.measures.SCORED`; those with no value
        in the data are left out).
    detector : detector, optional
        Any object with ``fit(X)``, ``decision_scores_``, ``labels_``
        (default :func:`~.detectors.default_ensemble`).
    contamination : float
        Share of institutions flagged ``outlier``.
    engine : {"duckdb", "spark"}
        Where the profile SQL runs (:func:`.profiles.institution_profiles`); the scoring is
        Python either way, and both engines give the same result.
    spark : SparkSession, optional
        For ``engine="spark"`` (default: :func:`workbench.rules.spark.get_spark`).
    **params
        Profile parameters (:data:`.profiles.DEFAULTS`).
    """
    session = _session(data)
    found = profiles.read_findings(findings)
    profiles.check_engine(engine)
    inst = profiles.institution_profiles(session, engine, spark, **params)
    if inst.empty:
        raise WorkbenchError(f"providers: {session.folder} has no visits to profile")
    inst = profiles.add_findings_measures(inst, found)
    missing = [c for c in peer_by if c not in inst.columns]
    if missing:
        raise WorkbenchError(f"providers: peer_by column(s) {', '.join(missing)} are not medins columns")
    inst = peers.assign_peer_groups(inst, peer_by, min_peer_size)
    parts = score_frame(inst, scored, seed, contamination, z_clip, detector)
    det = parts["detector"]
    inst["risk_score"] = np.round(det.decision_scores_, 12)
    # flagged only with a stated reason: a detector's top share always holds someone, even among
    # three near-identical peers, and an auditor is never handed an outlier "like its peers"
    stated = np.array([r != reasons.NONE_TEXT["zh"] for r in parts["reasons"]["zh"]], dtype=bool)
    inst["outlier"] = det.labels_.astype(bool) & stated
    exp = exposure(inst)
    inst["intensity"] = case_mix_intensity(inst, parts["medians"])
    inst["priority"] = np.round(inspection_priority(exp, inst["risk_score"].to_numpy(dtype=float), inst["intensity"]), 2)
    lead = reasons.exposure_texts(exp, inst["peer_group"].to_numpy(), money="hifp_total" in inst and inst["hifp_total"].notna().any())
    inst["reasons"] = [reasons.join_reasons(a, b, "zh") for a, b in zip(lead["zh"], parts["reasons"]["zh"])]
    inst["reasons_en"] = [reasons.join_reasons(a, b, "en") for a, b in zip(lead["en"], parts["reasons"]["en"])]
    cl = clusters.by_peer_group(cluster_matrix(parts["z"], parts["scored"], z_clip), inst["peer_group"], seed)
    inst = inst.join(cl)
    by_risk = inst.sort_values(["risk_score", "fixmedins_code"], ascending=[False, True], kind="mergesort").index
    inst.loc[by_risk, "rank"] = np.arange(1, len(inst) + 1)
    order = inst.sort_values(["priority", "risk_score", "fixmedins_code"], ascending=[False, False, True], kind="mergesort").index
    inst, z, med = (f.loc[order].reset_index(drop=True) for f in (inst, parts["z"], parts["medians"]))
    inst["rank"] = inst["rank"].astype("int64")
    inst["priority_rank"] = np.arange(1, len(inst) + 1, dtype="int64")
    for c in MEASURE_COLUMNS:
        if c not in inst.columns:
            inst[c] = np.nan
    inst = inst[LEAD_COLUMNS + MEASURE_COLUMNS + TRAIL_COLUMNS + ["reference", "pc1", "pc2"]]
    codes = inst["fixmedins_code"].to_numpy()
    member = pd.DataFrame({k: v[order] for k, v in getattr(det, "member_scores_", {}).items()}, index=codes)
    return ProviderProfiles(session, inst, z.set_axis(codes), med.set_axis(codes), parts["stats"], parts["scored"],
                            det, member, found, {"seed": seed, "peer_by": list(peer_by), "min_peer_size": min_peer_size,
                                                 "contamination": contamination, "z_clip": z_clip, **profiles.check_params(params)},
                            engine=engine, spark=spark)


class ProviderProfiles:
    """The result of :func:`profile_providers`: the table, and what the widgets ask of it.

    Attributes
    ----------
    institutions : DataFrame
        One row per institution, inspect first (``priority_rank``): :data:`LEAD_COLUMNS`, every measure,
        :data:`TRAIL_COLUMNS`, ``reference``, ``pc1``, ``pc2``.
    z, medians : DataFrame
        Robust z of every measure and the reference median, indexed by ``fixmedins_code``.
    stats : DataFrame
        ``reference, measure, n, median, scale``.
    scored : list of str
        Measures that drove the score.
    detector : fitted detector; member_scores : DataFrame (rank-normalised, per member)
    findings : DataFrame or None
    params : dict
    engine : str
        ``"duckdb"`` or ``"spark"``: where the profiles (doctors' too) are computed.
    """

    def __init__(self, session, institutions, z, medians, stats, scored, detector, member_scores, findings, params,
                 engine="duckdb", spark=None):
        self.session, self.institutions, self.z, self.medians = session, institutions, z, medians
        self.stats, self.scored, self.detector, self.member_scores = stats, scored, detector, member_scores
        self.findings, self.params = findings, params
        self.engine, self._spark = engine, spark
        self._by_code = institutions.set_index("fixmedins_code", drop=False)

    def __len__(self):
        return len(self.institutions)

    def __repr__(self):
        return f"ProviderProfiles({len(self)} institutions, {self.institutions.peer_group.nunique()} peer groups, seed={self.params['seed']})"

    def summary(self) -> dict:
        """Headline figures: ``institutions``, ``peer_groups``, ``outliers``, ``scored`` (number of
        measures that drove the score), ``findings`` (rows given, or None) and ``seed``."""
        inst = self.institutions
        return {"institutions": len(inst), "peer_groups": int(inst.peer_group.nunique()), "outliers": int(inst.outlier.sum()),
                "scored": len(self.scored), "findings": None if self.findings is None else len(self.findings),
                "seed": self.params["seed"]}

    def row(self, code: str) -> pd.Series:
        """One institution's row (``WorkbenchError`` naming the code when unknown)."""
        if code not in self._by_code.index:
            raise WorkbenchError(f"providers: no institution {code!r} in the profile")
        return self._by_code.loc[code]

    def peer_groups(self) -> pd.DataFrame:
        """``peer_group, peer_label, institutions, clusters, outliers``, largest group first."""
        g = self.institutions.groupby(["peer_group", "peer_label"], as_index=False).agg(
            institutions=("fixmedins_code", "size"), clusters=("cluster", "nunique"), outliers=("outlier", "sum"))
        return g.sort_values(["institutions", "peer_group"], ascending=[False, True], kind="mergesort").reset_index(drop=True)

    def ranked(self, view: str = "priority") -> pd.DataFrame:
        """The institutions in the order of a view: ``"priority"`` (inspect first: ``priority_rank``,
        the table's own order) or ``"risk_score"`` (the size-neutral view: ``rank``)."""
        if view not in VIEWS:
            raise WorkbenchError(f"providers: unknown view {view!r}; use one of {', '.join(VIEWS)}")
        key = "priority_rank" if view == "priority" else "rank"
        return self.institutions.sort_values(key, kind="mergesort").reset_index(drop=True)

    def members(self, peer_group: str, view: str = "priority") -> pd.DataFrame:
        """The institutions of a peer group in the order of ``view`` (:meth:`ranked`)."""
        r = self.ranked(view)
        return r[r.peer_group == peer_group].reset_index(drop=True)

    def axis_options(self) -> list:
        """``(label, name)`` pairs for a scatter axis: the PCA map, then measures with values."""
        opts = [("主成分1 PC1", "pc1"), ("主成分2 PC2", "pc2")]
        return opts + [(f"{m.zh} {m.en}", m.name) for m in MEASURES if self.institutions[m.name].notna().any()]

    def points(self, peer_group: str, x: str = "pc1", y: str = "pc2") -> pd.DataFrame:
        """Scatter points of a peer group: ``fixmedins_code, fixmedins_name, x, y, cluster,
        outlier, risk_score, priority`` (x and y: ``pc1``, ``pc2`` or a measure name)."""
        for axis in (x, y):
            if axis not in ("pc1", "pc2") and axis not in BY_NAME:
                raise WorkbenchError(f"providers: unknown axis {axis!r}")
        m = self.members(peer_group)
        return pd.DataFrame({
            "fixmedins_code": m.fixmedins_code, "fixmedins_name": m.fixmedins_name,
            "x": pd.to_numeric(m[x], errors="coerce").astype(float), "y": pd.to_numeric(m[y], errors="coerce").astype(float),
            "cluster": m.cluster, "outlier": m.outlier, "risk_score": m.risk_score, "priority": m.priority,
        })

    def deviations(self, code: str, scored_only: bool = True) -> pd.DataFrame:
        """One institution against its reference peers: ``measure, zh, en, value, peer_median, z,
        scored``, largest |z| first (measures without a z left out)."""
        self.row(code)
        names = self.scored if scored_only else [c for c in self.z.columns]
        rows = [{"measure": n, "zh": BY_NAME[n].zh, "en": BY_NAME[n].en, "value": self._by_code.at[code, n],
                 "peer_median": self.medians.at[code, n], "z": self.z.at[code, n], "scored": n in self.scored}
                for n in names if pd.notna(self.z.at[code, n])]
        out = pd.DataFrame(rows, columns=["measure", "zh", "en", "value", "peer_median", "z", "scored"])
        return out.iloc[np.argsort(-out.z.abs().to_numpy(), kind="stable")].reset_index(drop=True)

    def findings_of(self, code: str) -> pd.DataFrame:
        """The findings at an institution (empty without findings), largest amount first."""
        self.row(code)
        if self.findings is None:
            return pd.DataFrame(columns=["rule_id", "fixmedins_code", "amount_at_risk", "detail"])
        f = self.findings[self.findings.fixmedins_code == code]
        if "amount_at_risk" in f:
            f = f.assign(_a=pd.to_numeric(f.amount_at_risk, errors="coerce")).sort_values("_a", ascending=False, kind="mergesort").drop(columns="_a")
        return f.reset_index(drop=True)

    def reasons(self, code: str, lang: str = "zh") -> str:
        """The reasons text of one institution (``zh`` or ``en``)."""
        return self.row(code)["reasons_en" if lang == "en" else "reasons"]

    @cached_property
    def doctors(self) -> pd.DataFrame:
        """:meth:`doctor_scores` with the default minimum of visits (computed once)."""
        return self.doctor_scores()

    def doctor_scores(self, min_visits: int = DOCTOR_MIN_VISITS) -> pd.DataFrame:
        """Doctors at institutions with at least ``min_visits`` visits (fewer make rates too noisy
        to compare), scored like institutions against the doctors of the same institution peer
        group: the doctor profile, ``peer_group``, ``reference``, ``risk_score``, ``reasons``."""
        doc = profiles.doctor_profiles(self.session, self.engine, self._spark, **{k: self.params[k] for k in profiles.DEFAULTS})
        doc = doc[doc.visits >= min_visits].reset_index(drop=True)
        doc = profiles.add_findings_measures(doc, None if self.findings is None or "dr_code" not in self.findings
                                             else self.findings, ("fixmedins_code", "dr_code"))
        groups = self.institutions.set_index("fixmedins_code")["peer_group"]
        doc["peer_group"] = doc.fixmedins_code.map(groups).fillna("?")
        size = doc.peer_group.map(doc.peer_group.value_counts())
        doc["reference"] = np.where(size >= self.params["min_peer_size"], doc.peer_group, "*")
        if doc.empty:
            return doc.assign(risk_score=np.nan, reasons="")
        scored = [s for s in self.scored if s != "patients_per_doctor"]
        parts = score_frame(doc, scored, self.params["seed"], self.params["contamination"], self.params["z_clip"])
        doc["risk_score"] = np.round(parts["detector"].decision_scores_, 12)
        doc["reasons"] = parts["reasons"]["zh"]
        return doc.sort_values(["risk_score", "fixmedins_code", "dr_code"], ascending=[False, True, True], kind="mergesort").reset_index(drop=True)

    def to_csv(self, path):
        """Write :data:`LEAD_COLUMNS`, the measures and :data:`TRAIL_COLUMNS` (``workbench providers``)."""
        from .output import write_csv

        return write_csv(self.institutions, path)


class ProviderAnalysis:
    """The providers analysis in the common protocol: ``ProviderAnalysis(session, params, seed=,
    engine=)``, its result computed once (:attr:`result`, a :class:`ProviderProfiles`), and
    ``.evaluate(truth) -> DataFrame``.

    Parameters
    ----------
    session : Session or path
    params : dict, optional
        Keyword arguments of :func:`profile_providers` other than ``seed``, ``engine``,
        ``spark`` and ``findings``: ``peer_by``, ``min_peer_size``, ``scored``, ``detector``,
        ``contamination``, ``z_clip`` and the profile parameters.
    seed : int
        Seeds the isolation forest and k-means: the same seed gives the same result.
    engine : {"duckdb", "spark"}
    spark : SparkSession, optional
    findings : DataFrame, audit result, run folder or path, optional
        Rule findings (adds the rule-hit measures).

    Every attribute and method of :class:`ProviderProfiles` (``institutions``, ``row``,
    ``peer_groups``, ``doctors`` ...) is answered by :attr:`result`.
    """

    def __init__(self, session, params=None, seed: int = DEFAULT_SEED, engine: str = "duckdb", spark=None, findings=None):
        self.session = _session(session)
        self.params = dict(params or {})
        reserved = {"seed", "engine", "spark", "findings"} & set(self.params)
        if reserved:
            raise WorkbenchError(f"providers: {', '.join(sorted(reserved))} are arguments of ProviderAnalysis, not params")
        self.seed = check_seed(seed, "providers")
        self.engine = profiles.check_engine(engine)
        self.spark, self.findings = spark, findings

    @cached_property
    def result(self) -> ProviderProfiles:
        """:func:`profile_providers` of the session with these parameters (computed on first use)."""
        return profile_providers(self.session, self.findings, seed=self.seed, engine=self.engine, spark=self.spark,
                                 **self.params)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.result, name)

    def __len__(self):
        return len(self.result)

    def __repr__(self):
        return f"ProviderAnalysis(seed={self.seed}, engine={self.engine!r}, params={self.params!r})"

    def evaluate(self, truth=None) -> pd.DataFrame:
        """How well the risk score finds the labelled institutions, as a table.

        Parameters
        ----------
        truth : DataFrame or path, optional
            ``truth`` rows or ``cms_labels`` (default: :func:`~.evaluate.find_labels` beside the
            data folder).

        Returns
        -------
        DataFrame
            :data:`~.evaluate.EVALUATION_COLUMNS` (``metric, key, value``):
            :func:`~.evaluate.evaluation_frame` of :func:`~.evaluate.evaluate`.
        """
        return _evaluation.evaluation_frame(_evaluation.evaluate(self.result, truth))
