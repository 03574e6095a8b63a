"""Clustering window embeddings into speakers with an estimated number of speakers.

Average-linkage agglomerative clustering on cosine distance, stopped at a distance threshold
(or at a fixed number of clusters). The average linkage of two groups of L2-normalised vectors
is ``1 - (sum_A . sum_B) / (n_A n_B)``, which lets large lessons keep the same semantics with
bounded cost: above ``max_items`` windows, a random sample of ``max_items`` windows is clustered,
every other window joins the cluster with the highest average similarity if that similarity
is within the threshold, and the windows that fit nowhere (a voice the sample missed) are
clustered in turn the same way. Memory is ``O(max_items**2 + N * K)``, never ``O(N**2)``.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage


def _ahc(x: np.ndarray, threshold: float, num_clusters: int | None) -> np.ndarray:
    if len(x) == 1:
        return np.zeros(1, int)
    tree = linkage(x.astype(np.float64), method="average", metric="cosine")
    if num_clusters is not None:
        return fcluster(tree, t=min(num_clusters, len(x)), criterion="maxclust") - 1
    return fcluster(tree, t=threshold, criterion="distance") - 1


def cluster_sums(x: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums ``(K, D)`` and member counts ``(K,)``."""
    sums = np.zeros((k, x.shape[1]), np.float64)
    np.add.at(sums, labels, x)
    return sums, np.bincount(labels, minlength=k).astype(np.float64)


def cluster_embeddings(
    x: np.ndarray,
    threshold: float,
    num_clusters: int | None = None,
    max_items: int = 1500,
    seed: int = 0,
) -> np.ndarray:
    """Cluster labels ``(N,)`` (0..K-1) of L2-normalised embeddings ``x`` ``(N, D)``.

    ``threshold``: average-linkage cosine distance at which merging stops; ``num_clusters``
    fixes K instead (applied to the sample when ``N > max_items``).
    """
    n = len(x)
    if n == 0:
        return np.zeros(0, int)
    if n <= max_items:
        return _ahc(x, threshold, num_clusters)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=max_items, replace=False))
    labels = np.full(n, -1)
    labels[sample] = _ahc(x[sample], threshold, num_clusters)
    k = int(labels.max()) + 1
    sums, counts = cluster_sums(x[sample], labels[sample], k)
    rest = np.setdiff1d(np.arange(n), sample)
    leftover = []
    for a in range(0, len(rest), 4096):
        idx = rest[a : a + 4096]
        avg = (x[idx] @ sums.T) / counts
        best = np.argmax(avg, axis=1)
        fits = (avg[np.arange(len(idx)), best] >= 1.0 - threshold) | (num_clusters is not None)
        labels[idx[fits]] = best[fits]
        leftover.extend(idx[~fits].tolist())
    if leftover:
        sub = cluster_embeddings(x[leftover], threshold, None, max_items, seed + 1)
        labels[np.asarray(leftover)] = sub + k
    return labels
