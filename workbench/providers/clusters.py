"""Clusters and a 2-D map of institutions within each peer group (scikit-learn).

Both work on the peer-standardised matrix (robust z of the scored measures, nulls at the
peer median, clipped), one peer group at a time, so a cluster is a kind of practice among
comparable institutions, not a size class.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

K_RANGE = (2, 6)
MIN_CLUSTER_ROWS = 6  # fewer institutions than this form one cluster
SILHOUETTE_SAMPLE = 2000


def kmeans_by_silhouette(X, k_range=K_RANGE, random_state=None) -> tuple:
    """k-means with k in ``k_range`` (inclusive) chosen by the best silhouette.

    Returns
    -------
    labels : ndarray of int
        Cluster of each row, numbered by size (0 = largest; ties by the lowest row).
    k : int
    silhouette : float
        Of the chosen k (NaN when there is a single cluster).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    distinct = len(np.unique(X, axis=0)) if n else 0
    hi = min(k_range[1], n - 1, distinct)
    if n < MIN_CLUSTER_ROWS or hi < k_range[0]:
        return np.zeros(n, dtype=int), 1, float("nan")
    best = None
    for k in range(k_range[0], hi + 1):
        labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(X)
        if len(np.unique(labels)) < 2:
            continue
        sample = SILHOUETTE_SAMPLE if n > SILHOUETTE_SAMPLE else None
        s = float(silhouette_score(X, labels, sample_size=sample, random_state=random_state))
        if best is None or s > best[2] + 1e-12:
            best = (labels, k, s)
    if best is None:
        return np.zeros(n, dtype=int), 1, float("nan")
    return _by_size(best[0]), best[1], best[2]


def _by_size(labels) -> np.ndarray:
    """Renumber clusters so 0 is the largest (ties: the cluster met first)."""
    labels = np.asarray(labels)
    uniq, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(uniq)), key=lambda i: (-counts[i], first[i]))
    mapping = {uniq[i]: new for new, i in enumerate(order)}
    return np.array([mapping[v] for v in labels], dtype=int)


def project_2d(X) -> np.ndarray:
    """First two principal components of ``X`` (rows x 2); zeros where there is too little to fit."""
    from sklearn.decomposition import PCA

    X = np.asarray(X, dtype=float)
    out = np.zeros((X.shape[0], 2))
    if X.shape[0] < 3 or X.shape[1] == 0 or np.allclose(X, X[0]):
        return out
    n = min(2, X.shape[1], X.shape[0])
    out[:, :n] = PCA(n_components=n, svd_solver="full").fit_transform(X)
    return out


def by_peer_group(matrix: pd.DataFrame, groups: pd.Series, random_state=None) -> pd.DataFrame:
    """Cluster and project each peer group's rows of ``matrix``.

    Returns
    -------
    DataFrame
        Index of ``matrix``; ``cluster`` (int, within the peer group), ``pc1``, ``pc2``.
    """
    from threadpoolctl import threadpool_limits

    out = pd.DataFrame({"cluster": 0, "pc1": 0.0, "pc2": 0.0}, index=matrix.index)
    # peer groups are small: one thread avoids OpenMP start-up costs that dwarf the work
    with threadpool_limits(limits=1):
        for g in sorted(groups.unique()):
            at = groups.index[groups == g]
            X = matrix.loc[at].to_numpy(dtype=float)
            labels, _, _ = kmeans_by_silhouette(X, random_state=random_state)
            out.loc[at, "cluster"] = labels
            out.loc[at, ["pc1", "pc2"]] = project_2d(X)
    out["cluster"] = out["cluster"].astype("int64")
    return out
