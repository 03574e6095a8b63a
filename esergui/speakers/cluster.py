"""Clustering window embeddings into speakers with an estimated number of speakers.

Average-linkage agglomerative clustering on cosine distance, stopped at a distance threshold
(or at a fixed number of clusters). When the threshold leaves a single cluster, the tree is
looked at again and cut where the silhouette of the clusters is best (:func:`best_cut`):
real voices can lie closer together than the acted EmoDB voices the threshold was tuned on.

The average linkage of two groups of L2-normalised vectors is ``1 - (sum_A . sum_B) /
(n_A n_B)``, which lets large lessons keep the same semantics with
bounded cost: above ``max_items`` windows, a random sample of ``max_items`` windows is clustered,
every other window joins the cluster with the highest average similarity if that similarity
is within the threshold, and the windows that fit nowhere (a voice the sample missed) are
clustered in turn the same way. Memory is ``O(max_items**2 + N * K)``, never ``O(N**2)``.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

#: In the second look, below this silhouette no cut separates the voices clearly and the
#: recording keeps one speaker (set a priori: scikit-learn's scale, 0 = no structure).
MIN_SILHOUETTE = 0.1


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (cosine distance) of L2-normalised ``x`` under ``labels``, in
    ``O(N K D)`` from cluster sums (a window's mean distance to a cluster is
    ``1 - x . sum / n``); singletons score 0, as in scikit-learn."""
    k = int(labels.max()) + 1
    if k < 2:
        return 0.0
    sums, counts = cluster_sums(x, labels, k)
    sim = x.astype(np.float64) @ sums.T  # (N, K) summed similarities
    rows = np.arange(len(x))
    n_own = counts[labels] - 1
    own = sim[rows, labels] - np.einsum("ij,ij->i", x, x)
    a = np.where(n_own > 0, 1.0 - own / np.maximum(n_own, 1), 0.0)
    mean_other = 1.0 - sim / np.maximum(counts, 1)
    mean_other[rows, labels] = np.inf
    b = mean_other.min(axis=1)
    s = np.where(n_own > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def best_cut(tree: np.ndarray, x: np.ndarray, max_clusters: int) -> np.ndarray:
    """Labels of the average-linkage cut with the highest silhouette among 2..``max_clusters``
    clusters, or one cluster when no cut reaches :data:`MIN_SILHOUETTE`."""
    best, best_s = np.zeros(len(x), int), MIN_SILHOUETTE
    for k in range(2, min(max_clusters, len(x) - 1) + 1):
        labels = fcluster(tree, t=k, criterion="maxclust") - 1
        if int(labels.max()) + 1 < k:
            continue  # ties in the tree: this k is not reachable
        s = silhouette(x, labels)
        if s > best_s:
            best, best_s = labels, s
    return best


def _ahc(
    x: np.ndarray, threshold: float, num_clusters: int | None, max_clusters: int = 31, second_look: bool = True
) -> np.ndarray:
    if len(x) == 1:
        return np.zeros(1, int)
    tree = linkage(x.astype(np.float64), method="average", metric="cosine")
    if num_clusters is not None:
        return fcluster(tree, t=min(num_clusters, len(x)), criterion="maxclust") - 1
    labels = fcluster(tree, t=threshold, criterion="distance") - 1
    if second_look and labels.max() == 0 and len(x) >= 4:
        # One voice at the threshold: real voices can be closer than the acted ones the
        # threshold was tuned on, so let the tree's best-separated cut decide (clusters of
        # two windows or more on average).
        return best_cut(tree, x, min(max_clusters, len(x) // 2))
    return labels


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
    max_clusters: int = 31,
    second_look: bool = True,
) -> np.ndarray:
    """Cluster labels ``(N,)`` (0..K-1) of L2-normalised embeddings ``x`` ``(N, D)``.

    ``threshold``: average-linkage cosine distance at which merging stops; ``num_clusters``
    fixes K instead (applied to the sample when ``N > max_items``). ``second_look``: when the
    threshold leaves one cluster, cut at the best silhouette instead (up to ``max_clusters``;
    windows outside the sample then join their closest cluster).
    """
    n = len(x)
    if n == 0:
        return np.zeros(0, int)
    if n <= max_items:
        return _ahc(x, threshold, num_clusters, max_clusters, second_look)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=max_items, replace=False))
    labels = np.full(n, -1)
    labels[sample] = _ahc(x[sample], threshold, num_clusters, max_clusters, second_look)
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
        sub = cluster_embeddings(x[leftover], threshold, None, max_items, seed + 1, max_clusters, second_look)
        labels[np.asarray(leftover)] = sub + k
    return labels
