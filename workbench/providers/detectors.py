"""Outlier detectors with one interface (scikit-learn / PyOD): swap them, compare them.

Every detector has ``fit(X)`` (returns self) after which ``decision_scores_`` (one per row,
higher = more abnormal), ``threshold_`` (the ``1 - contamination`` quantile of the scores) and
``labels_`` (1 = outlier, 0 = inlier, as PyOD) are set; ``random_state`` seeds whatever is
random, so the same seed gives the same scores.

* :class:`RobustZDetector`: the root mean square of one-sided robust z-scores (no model);
* :class:`IsolationForestDetector`: scikit-learn's isolation forest;
* :class:`LOFDetector`: scikit-learn's local outlier factor (50 neighbours: with fewer, the
  large peer groups of near-identical village clinics make their own tiny neighbourhoods and
  the factor ranks noise);
* :class:`EnsembleDetector`: the mean of its members' rank-normalised scores.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from .peers import robust_scale


def rank_normalise(scores) -> np.ndarray:
    """Scores as ranks scaled to (0, 1]: the highest is 1, ties share their mean rank."""
    s = np.asarray(scores, dtype=float)
    if s.size == 0:
        return s
    return rankdata(s, method="average") / s.size


class BaseDetector:
    """Shared bookkeeping: check ``X``, set ``threshold_`` and ``labels_`` from the scores.

    Parameters
    ----------
    contamination : float
        Expected share of outliers, in (0, 0.5]; sets ``threshold_`` and ``labels_``.
    random_state : int, optional
    """

    def __init__(self, contamination: float = 0.05, random_state=None):
        if not 0 < contamination <= 0.5:
            raise ValueError(f"contamination must be in (0, 0.5], got {contamination!r}")
        self.contamination = contamination
        self.random_state = random_state

    @staticmethod
    def _check(X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"X must be a non-empty 2-D matrix, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("X has NaN or infinite values; impute and clip before fitting")
        return X

    def _finish(self, scores):
        self.decision_scores_ = np.asarray(scores, dtype=float)
        self.threshold_ = float(np.quantile(self.decision_scores_, 1 - self.contamination))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    def fit_predict(self, X, y=None):
        return self.fit(X).labels_

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


class RobustZDetector(BaseDetector):
    """Root mean square of the robust z-scores of each row, optionally one-sided.

    Parameters
    ----------
    center : bool
        Standardise each column by its own median and scaled MAD first (False when ``X`` is
        already a matrix of z-scores, as the provider profile passes it).
    one_sided : bool
        Count only deviations above the centre (the profile flips measures where low is
        suspicious before fitting, so "above" is always "suspicious").
    top : int, optional
        Average only the ``top`` largest squared deviations of each row (None: all columns);
        a provider far off on one or two measures then is not diluted by the rest.
    """

    def __init__(self, center: bool = True, one_sided: bool = True, top=None, contamination: float = 0.05, random_state=None):
        super().__init__(contamination, random_state)
        self.center, self.one_sided, self.top = center, one_sided, top

    def fit(self, X, y=None):
        X = self._check(X)
        if self.center:
            cols = []
            for j in range(X.shape[1]):
                med, scale = robust_scale(X[:, j])
                cols.append((X[:, j] - med) / scale if scale > 0 else np.zeros(X.shape[0]))
            X = np.column_stack(cols)
        d = np.clip(X, 0, None) if self.one_sided else np.abs(X)
        sq = np.sort(d ** 2, axis=1)[:, ::-1]
        if self.top:
            sq = sq[:, : int(self.top)]
        return self._finish(np.sqrt(sq.mean(axis=1)))


class IsolationForestDetector(BaseDetector):
    """Isolation forest (``sklearn.ensemble.IsolationForest``); score = minus its ``score_samples``."""

    def __init__(self, n_estimators: int = 200, max_samples="auto", contamination: float = 0.05, random_state=None):
        super().__init__(contamination, random_state)
        self.n_estimators, self.max_samples = n_estimators, max_samples

    def fit(self, X, y=None):
        from sklearn.ensemble import IsolationForest

        X = self._check(X)
        self.model_ = IsolationForest(n_estimators=self.n_estimators, max_samples=self.max_samples,
                                      random_state=self.random_state).fit(X)
        return self._finish(-self.model_.score_samples(X))


class LOFDetector(BaseDetector):
    """Local outlier factor (``sklearn.neighbors.LocalOutlierFactor``); score = the factor.

    ``n_neighbors`` is capped at a quarter of the rows (at least 2): with a neighbourhood close to
    the whole data set every point's density is measured against the same far points and the
    factor is about 1 for all, the outlier included. Deterministic; ``random_state`` is kept for
    the common interface.
    """

    def __init__(self, n_neighbors: int = 50, contamination: float = 0.05, random_state=None):
        super().__init__(contamination, random_state)
        self.n_neighbors = n_neighbors

    def fit(self, X, y=None):
        from sklearn.neighbors import LocalOutlierFactor

        X = self._check(X)
        if X.shape[0] < 3:
            return self._finish(np.ones(X.shape[0]))
        k = min(self.n_neighbors, max(2, (X.shape[0] - 1) // 4))
        self.model_ = LocalOutlierFactor(n_neighbors=k).fit(X)
        return self._finish(-self.model_.negative_outlier_factor_)


class EnsembleDetector(BaseDetector):
    """Mean of the members' rank-normalised scores (:func:`rank_normalise`), in (0, 1].

    Parameters
    ----------
    detectors : dict of name to detector
        Fitted in order; each member's ``random_state`` is set to the ensemble's when it has none.
    weights : dict of name to float, optional
        Weight of each member (default equal).

    Attributes
    ----------
    member_scores_ : dict of name to ndarray
        Each member's rank-normalised scores.
    """

    def __init__(self, detectors: dict, weights=None, contamination: float = 0.05, random_state=None):
        super().__init__(contamination, random_state)
        self.detectors, self.weights = dict(detectors), weights

    def fit(self, X, y=None):
        X = self._check(X)
        self.member_scores_ = {}
        total, wsum = np.zeros(X.shape[0]), 0.0
        for name, det in self.detectors.items():
            if getattr(det, "random_state", None) is None:
                det.random_state = self.random_state
            ranks = rank_normalise(det.fit(X).decision_scores_)
            w = 1.0 if self.weights is None else float(self.weights.get(name, 0.0))
            self.member_scores_[name] = ranks
            total, wsum = total + w * ranks, wsum + w
        return self._finish(total / wsum)


def default_ensemble(random_state=None, contamination: float = 0.05) -> EnsembleDetector:
    """Isolation forest + local outlier factor + one-sided robust z (top 3 deviations)."""
    return EnsembleDetector({
        "isolation_forest": IsolationForestDetector(random_state=random_state, contamination=contamination),
        "lof": LOFDetector(contamination=contamination, random_state=random_state),
        "robust_z": RobustZDetector(center=False, one_sided=True, top=3, contamination=contamination, random_state=random_state),
    }, contamination=contamination, random_state=random_state)
