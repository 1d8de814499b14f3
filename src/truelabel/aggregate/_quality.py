"""Source quality: per-source accuracy, confusion, spammer score; Krippendorff's alpha."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._types import FloatArray, IntArray
from ..sources._votes import VoteArrays

__all__ = ["SOURCE_PSEUDO_VOTES", "krippendorff_alpha", "source_quality", "spammer_score"]

#: pseudo-votes at the average that every source's estimated accuracy is smoothed with
SOURCE_PSEUDO_VOTES = 2.0


def krippendorff_alpha(votes: VoteArrays) -> float:
    """Krippendorff's alpha for nominal labels over all non-gold votes.

    Items with fewer than two votes are not pairable and are ignored.

    Returns
    -------
    alpha : float
        1 = perfect agreement, 0 = chance, < 0 = systematic disagreement; NaN when no
        item has two votes or only one class is ever used.
    """
    v = votes.without_gold()
    k = votes.n_classes
    counts = (
        np.bincount(v.item.astype(np.int64) * k + v.label, minlength=votes.n_items * k)
        .reshape(votes.n_items, k)
        .astype(np.float64)
    )
    m = counts.sum(axis=1)
    keep = m >= 2
    if not keep.any():
        return float("nan")
    N = counts[keep]
    w = 1.0 / (m[keep] - 1.0)
    o = (N * w[:, None]).T @ N - np.diag((N * w[:, None]).sum(axis=0))
    n_c = o.sum(axis=0)
    n = n_c.sum()
    denom = n * n - float((n_c**2).sum())
    if denom <= 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * (n - np.trace(o)) / denom)


def spammer_score(confusion: FloatArray) -> FloatArray:
    """How close each source's confusion rows are to each other (rows alike = ignores the item).

    Parameters
    ----------
    confusion : ndarray of shape (n_sources, n_classes, n_classes)
        ``P(l | k)`` indexed ``[s, k, l]``.

    Returns
    -------
    score : ndarray of shape (n_sources,), float32
        ``1 - mean total-variation distance between rows``: 1 = a spammer whose answer
        does not depend on the true class, 0 = rows as different as possible (a perfect
        or perfectly adversarial source). Higher = worse.
    """
    c = np.asarray(confusion, dtype=np.float64)
    k = c.shape[1]
    if k < 2:
        return np.zeros(c.shape[0], dtype=np.float32)
    tv = 0.5 * np.abs(c[:, :, None, :] - c[:, None, :, :]).sum(axis=3)  # (s, k, k)
    mean_tv = tv.sum(axis=(1, 2)) / (k * (k - 1))
    return (1.0 - mean_tv).astype(np.float32)


def source_quality(
    votes: VoteArrays, posterior: FloatArray, confusion: FloatArray, gold: IntArray | None = None
) -> dict[str, Any]:
    """Per-source statistics as column arrays (one entry per source).

    Parameters
    ----------
    votes : VoteArrays
    posterior : ndarray of shape (n_items, n_classes)
    confusion : ndarray of shape (n_sources, n_classes, n_classes)
    gold : ndarray of shape (n_items,), int, optional
        -1 = no gold; enables ``gold_accuracy``.

    Returns
    -------
    dict of ndarray of shape (n_sources,)
        ``source``, ``is_gold``, ``n_votes``, ``coverage`` (share of items voted on),
        ``estimated_accuracy`` (mean posterior probability of the voted label, smoothed
        toward the average: ``(sum + m * mean) / (n_votes + m)`` with
        ``m = SOURCE_PSEUDO_VOTES`` and ``mean`` the vote-weighted mean over all non-gold
        sources, so a source with one vote lands between its vote and the average),
        ``agreement`` (share of votes equal to the aggregated label), ``spammer_score``,
        ``gold_votes`` and ``gold_accuracy`` (NaN without gold votes).
    """
    s = votes.n_sources
    post = np.asarray(posterior, dtype=np.float64)
    src, item, lab = votes.source, votes.item, votes.label
    n = np.bincount(src, minlength=s).astype(np.int64)
    nn = np.maximum(n, 1)
    right = np.bincount(src, post[item, lab], minlength=s)
    plain = ~votes.is_gold_source
    mean = float(right[plain].sum() / max(n[plain].sum(), 1))
    est = (right + SOURCE_PSEUDO_VOTES * mean) / (n + SOURCE_PSEUDO_VOTES)
    hard = np.argmax(post, axis=1)
    agree = np.bincount(src, (hard[item] == lab).astype(np.float64), minlength=s) / nn
    gv = np.zeros(s, dtype=np.int64)
    gacc = np.full(s, np.nan)
    if gold is not None:
        g = np.asarray(gold)
        has = g[item] >= 0
        gv = np.bincount(src[has], minlength=s).astype(np.int64)
        right = np.bincount(src[has], (g[item[has]] == lab[has]).astype(np.float64), minlength=s)
        gacc = np.where(gv > 0, right / np.maximum(gv, 1), np.nan)
    empty = n == 0
    est[empty] = np.nan
    agree[empty] = np.nan
    return {
        "source": np.asarray([str(x) for x in votes.source_names], dtype=object),
        "is_gold": votes.is_gold_source.copy(),
        "n_votes": n,
        "coverage": n / max(votes.n_items, 1),
        "estimated_accuracy": est,
        "agreement": agree,
        "spammer_score": spammer_score(confusion).astype(np.float64),
        "gold_votes": gv,
        "gold_accuracy": gacc,
    }
