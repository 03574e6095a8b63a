"""From window embeddings to speakers and roles (pure numpy; no audio here).

1. Cluster the windows (average-linkage AHC, cosine; ``cluster.py``).
2. Inside a segment, a lone window whose neighbours on both sides agree takes their speaker
   (speech inside one VAD segment rarely changes speaker for a single 1.5 s window). Then a
   speaker's outlier windows that are alike become a speaker of their own (``split_outliers``).
3. Cap the number of speakers; number them by talk time (``0`` = most speech).
4. Teacher: the dominant voice (``co_teaching``: the two dominant voices), or the speaker
   whose centroid is most similar to the enrolled teacher voice.
5. Teacher fragments: a speaker whose voice is still fairly close to the teacher's (average
   linkage distance under ``teacher_merge_threshold``) and whose windows often follow or precede
   the teacher's with hardly a pause (within ``turn_gap_s``, as inside one turn; at least
   ``teacher_merge_adjacency`` of its windows) is the teacher speaking differently (louder,
   angrier, further away) and is merged into the teacher. Optional (off by default).
6. Role confidence per window from the margin between its average similarity to the teacher's
   windows and to the closest student's windows (itself left out), through a logistic curve
   fitted on the tuning lessons, capped at 0.7 for a window that is an outlier in its own
   speaker (robust z < -3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from esergui.speakers.cluster import cluster_embeddings, cluster_sums
from esergui.speakers.settings import SpeakerSettings

#: Role confidence: a logistic (Platt) curve of the window's margin, fitted on the tuning
#: lessons (``bench/role_calibration.py --fit`` prints these two constants) ...
CONF_SLOPE = 10.39
CONF_OFFSET = 1.41
#: ... capped for a window that sounds unlike the rest of its speaker (robust z-score of its
#: similarity to them below OUTLIER_Z, the usual outlier rule): e.g. a student inside the
#: teacher's cluster. Both set a priori (the tuning lessons hold too few such windows to fit).
OUTLIER_Z = -3.0
OUTLIER_CAP = 0.7
#: Outlier windows of one speaker that are alike form a speaker of their own if there are at
#: least this many (about 4 s of speech; a priori).
MIN_OUTLIER_WINDOWS = 3
#: With an enrolled voice, speakers this close (cosine) to the best match are the teacher too.
ENROL_TIE = 0.02


@dataclass
class Assignment:
    """Per-window result: ``speaker`` (0 = most speech), ``teacher`` flag, ``confidence``."""

    speaker: np.ndarray  # (N,) int
    teacher: np.ndarray  # (N,) bool
    confidence: np.ndarray  # (N,) float in (0, 1); below 0.5 means "probably the other role"
    teacher_speakers: tuple[int, ...]


def smooth_within_segments(labels: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Relabel single windows that differ from both same-segment neighbours when these agree."""
    out = labels.copy()
    if len(out) < 3:
        return out
    mid = np.arange(1, len(out) - 1)
    same_seg = (segment[mid - 1] == segment[mid]) & (segment[mid] == segment[mid + 1])
    lone = same_seg & (labels[mid - 1] == labels[mid + 1]) & (labels[mid] != labels[mid - 1])
    out[mid[lone]] = labels[mid[lone] - 1]
    return out


def _cap(x: np.ndarray, labels: np.ndarray, weights: np.ndarray, cap: int) -> np.ndarray:
    """Merge the speakers beyond the ``cap`` largest into the most similar kept one."""
    k = int(labels.max()) + 1
    if k <= cap:
        return labels
    talk = np.bincount(labels, weights=weights, minlength=k)
    keep = np.argsort(-talk, kind="stable")[:cap]
    sums, counts = cluster_sums(x, labels, k)
    avg = (x @ sums[keep].T) / np.maximum(counts[keep], 1)
    out = labels.copy()
    drop = ~np.isin(labels, keep)
    out[drop] = keep[np.argmax(avg[drop], axis=1)]
    return out


def _renumber(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    used, dense = np.unique(labels, return_inverse=True)
    talk = np.bincount(dense, weights=weights, minlength=len(used))
    order = np.argsort(-talk, kind="stable")
    rank = np.empty(len(used), int)
    rank[order] = np.arange(len(used))
    return rank[dense]


def _loo_similarity(
    x: np.ndarray, labels: np.ndarray, sums: np.ndarray, counts: np.ndarray, members: np.ndarray
) -> np.ndarray:
    """``(N,)`` mean similarity of each window to the union of the clusters ``members``,
    leaving the window itself out; ``-1`` where the union has no other window."""
    total = sums[members].sum(axis=0)
    count = counts[members].sum()
    inside = np.isin(labels, members)
    sim_sum = x @ total - np.where(inside, np.einsum("ij,ij->i", x, x), 0.0)
    n_other = count - inside
    return np.where(n_other > 0, sim_sum / np.maximum(n_other, 1), -1.0)


def assign_roles(
    x: np.ndarray,
    duration_s: np.ndarray,
    segment: np.ndarray,
    settings: SpeakerSettings,
    teacher_embedding: np.ndarray | None = None,
    start_s: np.ndarray | None = None,
) -> Assignment:
    """Speakers, roles and role confidences of ``N`` windows (embeddings ``x`` ``(N, D)``,
    durations and start times in seconds, segment index per window). The teacher-fragment
    step (5) runs when ``start_s`` is given and ``settings.teacher_merge_adjacency`` is set."""
    n = len(x)
    if n == 0:
        return Assignment(np.zeros(0, int), np.zeros(0, bool), np.zeros(0), ())
    labels = cluster_embeddings(
        x,
        settings.cluster_threshold,
        settings.num_speakers,
        settings.max_cluster_items,
        max_clusters=settings.max_speakers,
        second_look=settings.second_look,
    )
    labels = smooth_within_segments(labels, segment)
    if settings.num_speakers is None:
        labels = split_outliers(x, np.unique(labels, return_inverse=True)[1], settings.cluster_threshold)
    labels = _renumber(labels, duration_s)
    labels = _renumber(_cap(x, labels, duration_s, settings.max_speakers), duration_s)
    k = int(labels.max()) + 1
    sums, counts = cluster_sums(x, labels, k)
    teachers = pick_teachers(sums, counts, settings, teacher_embedding)
    if start_s is not None and settings.teacher_merge_adjacency is not None:
        start = np.asarray(start_s, float)
        merged = merge_teacher_fragments(labels, sums, counts, start, start + duration_s, teachers, settings)
        if merged != teachers:
            fragments = np.isin(labels, merged) & ~np.isin(labels, teachers)
            relabelled = np.where(fragments, teachers[0], labels)
            labels = _renumber(relabelled, duration_s)
            teachers = tuple(sorted({int(labels[np.flatnonzero(relabelled == t)[0]]) for t in teachers}))
            k = int(labels.max()) + 1
            sums, counts = cluster_sums(x, labels, k)
    is_teacher = np.isin(labels, teachers)
    confidence = role_confidence(x, labels, sums, counts, teachers)
    return Assignment(labels, is_teacher, confidence, teachers)


def pick_teachers(
    sums: np.ndarray, counts: np.ndarray, settings: SpeakerSettings, teacher_embedding: np.ndarray | None
) -> tuple[int, ...]:
    """Teacher speaker indices (speakers are numbered by talk time, 0 = most)."""
    k = len(sums)
    wanted = 2 if settings.co_teaching else 1
    if teacher_embedding is None:
        return tuple(range(min(wanted, k)))
    centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
    voice = np.asarray(teacher_embedding, np.float64).reshape(-1)
    voice = voice / max(float(np.linalg.norm(voice)), 1e-9)
    sims = centroids @ voice
    best = int(np.argmax(sims))
    if sims[best] < settings.enrol_min_similarity:
        return tuple(range(min(wanted, k)))  # the enrolled voice is not clearly here: dominant voice(s)
    # Near-ties (a teacher split into two clusters, or a cluster mixing the teacher with a
    # similar student) all count as the teacher.
    picked = [c for c in range(k) if sims[c] >= sims[best] - ENROL_TIE]
    if wanted == 2 and k > len(picked):
        picked.append(next(c for c in range(k) if c not in picked))
    return tuple(sorted(picked))


def merge_teacher_fragments(
    labels: np.ndarray,
    sums: np.ndarray,
    counts: np.ndarray,
    start_s: np.ndarray,
    end_s: np.ndarray,
    teachers: tuple[int, ...],
    settings: SpeakerSettings,
) -> tuple[int, ...]:
    """Speakers that are the teacher's voice in another guise (step 5), plus ``teachers``."""
    order = np.argsort(start_s, kind="stable")
    close = (start_s[order[1:]] - end_s[order[:-1]]) <= settings.turn_gap_s  # (N-1,) consecutive pairs
    lab = labels[order]
    merged = set(teachers)
    changed = True
    while changed:
        changed = False
        t_sum = sums[sorted(merged)].sum(axis=0)
        t_count = counts[sorted(merged)].sum()
        is_t = np.isin(lab, sorted(merged))
        next_to_t = np.zeros(len(lab), bool)
        next_to_t[:-1] |= close & is_t[1:]
        next_to_t[1:] |= close & is_t[:-1]
        for c in range(len(sums)):
            if c in merged:
                continue
            distance = 1.0 - float(sums[c] @ t_sum) / (counts[c] * t_count)
            mine = lab == c
            if (
                distance < settings.teacher_merge_threshold
                and next_to_t[mine].mean() >= settings.teacher_merge_adjacency
            ):
                merged.add(c)
                changed = True
    return tuple(sorted(merged))


def role_confidence(
    x: np.ndarray, labels: np.ndarray, sums: np.ndarray, counts: np.ndarray, teachers: tuple[int, ...]
) -> np.ndarray:
    """Confidence ``(N,)`` in the role given to each window, in ``(0, 1)``."""
    margin, typicality = role_features(x, labels, sums, counts, teachers).T
    p = 1.0 / (1.0 + np.exp(-(CONF_SLOPE * margin + CONF_OFFSET)))
    return np.where(typicality < OUTLIER_Z, np.minimum(p, OUTLIER_CAP), p)


def role_features(
    x: np.ndarray, labels: np.ndarray, sums: np.ndarray, counts: np.ndarray, teachers: tuple[int, ...]
) -> np.ndarray:
    """``(N, 2)`` features of each window's role decision:

    * ``margin``: mean similarity to the windows of the role it got minus to those of the
      other role's closest speaker (itself left out; 0.1 when there is nothing to compare);
    * ``typicality``: robust z-score of its mean similarity to its own speaker's other windows
      (median and 1.4826 MAD over the speaker; 0 for speakers of two windows or fewer).
    """
    k = len(sums)
    t_members = np.asarray(teachers, int)
    to_teacher = _loo_similarity(x, labels, sums, counts, t_members)
    to_student = np.full(len(x), -1.0)
    for c in range(k):
        if c not in teachers:
            to_student = np.maximum(to_student, _loo_similarity(x, labels, sums, counts, np.asarray([c])))
    is_teacher = np.isin(labels, t_members)
    margin = np.where(is_teacher, to_teacher - to_student, to_student - to_teacher)
    # A window alone in its cluster (or the only speaker) has nothing to compare with.
    margin = np.where((to_teacher < -0.5) | (to_student < -0.5), 0.1, margin)
    return np.column_stack([margin, typicality(x, labels, sums, counts)])


def typicality(x: np.ndarray, labels: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``(N,)`` robust z-score of each window's mean similarity to the other windows of its
    speaker (median and 1.4826 MAD over the speaker; 0 for speakers of two windows or fewer)."""
    z = np.zeros(len(x))
    for c in range(len(sums)):
        mine = labels == c
        if mine.sum() <= 2:
            continue
        sim = _loo_similarity(
            x[mine], np.zeros(int(mine.sum()), int), sums[c : c + 1], counts[c : c + 1], np.asarray([0])
        )
        centre = np.median(sim)
        spread = max(1.4826 * float(np.median(np.abs(sim - centre))), 0.01)
        z[mine] = np.clip((sim - centre) / spread, -10.0, 10.0)
    return z


def split_outliers(x: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    """A speaker's outlier windows (:data:`OUTLIER_Z`) are clustered among themselves (the
    same average linkage and ``threshold``); a group of at least :data:`MIN_OUTLIER_WINDOWS`
    that is more alike within itself than to the rest of its speaker becomes a speaker of its
    own: a voice the clustering merged into a larger one (a student whose voice is near the
    teacher's)."""
    k = int(labels.max()) + 1
    sums, counts = cluster_sums(x, labels, k)
    z = typicality(x, labels, sums, counts)
    out = labels.copy()
    for c in range(k):
        odd = np.flatnonzero((labels == c) & (z < OUTLIER_Z))
        rest = np.flatnonzero((labels == c) & (z >= OUTLIER_Z))
        if len(odd) < MIN_OUTLIER_WINDOWS or len(rest) == 0:
            continue
        groups = cluster_embeddings(x[odd], threshold, second_look=False)
        for g in range(int(groups.max()) + 1):
            members = odd[groups == g]
            if len(members) < MIN_OUTLIER_WINDOWS:
                continue
            xs = x[members]
            mutual = float((xs @ xs.T)[np.triu_indices(len(members), 1)].mean())
            if mutual > float((xs @ x[rest].T).mean()):
                out[members] = out.max() + 1
    return out
