"""Trust one source: the one that agrees best with gold (or with the consensus)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._types import IntArray
from ..sources._votes import VoteArrays
from ._base import BaseLabelModel, _clamp, _is_prior_like, _n_true
from ._dawid_skene import OneCoinDawidSkene

__all__ = ["BestSource"]


class BestSource(BaseLabelModel):
    """Follow the most accurate source; where it abstains, the next most accurate one.

    Sources are ranked by their accuracy on the gold items, ``(right + 1) / (n_gold +
    2)`` (abstaining on a gold item counts as not right), or — without gold — by the
    accuracy a one-coin Dawid–Skene model estimates for them. Each item takes the
    answer of the best-ranked source that answered it: its posterior puts that
    source's accuracy ``a`` on the answer and ``(1 - a) / (K - 1)`` on every other
    class (times the class prior, renormalised), so the answer itself is never
    remapped from a handful of gold counts. Items nobody answered get the class prior.

    This is the "pick the best LLM" baseline as a label model, so ``method="auto"``
    can compare it with the aggregating models on held-out gold: when one source is
    far better than the rest (and the rest are correlated), following it beats any
    model that assumes independent sources.

    Parameters
    ----------
    class_prior : array-like of shape (n_classes,), optional
        Fixed class prior; default: class shares of the gold labels (or of the votes).
    random_state : int, Generator or None
        Unused; kept for a uniform interface.

    Attributes
    ----------
    ranking_ : ndarray of shape (n_sources,), int64
        Source codes, best first.
    source_accuracy_ : ndarray of shape (n_sources,), float64
        The accuracy each source was ranked by (NaN for sources without votes).
    """

    _constraints = {
        "class_prior": [_is_prior_like],
        "random_state": ["random_state"],
    }

    def __init__(self, *, class_prior: Any = None, random_state: int | None = 0) -> None:
        self.class_prior = class_prior
        self.random_state = random_state

    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        k, s, n_obs = _n_true(votes), votes.n_sources, votes.n_classes
        has = gold >= 0
        real = votes.label < k
        n_per_src = np.bincount(votes.source[real], minlength=s)
        n_all = np.bincount(votes.source, minlength=s)
        p_abs = 1.0 - n_per_src / np.maximum(n_all, 1)
        if has.any():
            gi = np.flatnonzero(has)
            on_gold = has[votes.item]
            right = np.bincount(
                votes.source[on_gold & real],
                (votes.label == gold[votes.item])[on_gold & real].astype(np.float64),
                minlength=s,
            )
            acc = (right + 1.0) / (len(gi) + 2.0)
            conf = _one_coin(acc, k, n_obs, p_abs)
            prior = np.bincount(gold[gi], minlength=k).astype(np.float64) + 1.0
        else:
            oc = OneCoinDawidSkene().fit(votes)
            c = np.asarray(oc.confusion_, dtype=np.float64)
            acc = np.trace(c[:, :, :k], axis1=1, axis2=2) / k
            conf = _one_coin(np.clip(acc, 1e-3, 1 - 1e-3), k, n_obs, p_abs)
            prior = np.asarray(oc.prior_, dtype=np.float64)
        acc = np.where(n_per_src > 0, acc, np.nan)
        prior = prior / prior.sum()
        if self._class_prior is not None:
            prior = self._class_prior
        rank_key = np.where(np.isnan(acc), -np.inf, acc)
        ranking = np.argsort(-rank_key, kind="stable")
        pos = np.empty(s, dtype=np.int64)
        pos[ranking] = np.arange(s)
        # per item, the best-ranked source with a real answer
        best_pos = np.full(votes.n_items, s, dtype=np.int64)
        np.minimum.at(best_pos, votes.item[real], pos[votes.source[real]])
        post = np.tile(prior, (votes.n_items, 1))
        chosen = np.zeros(votes.n_votes, dtype=bool)
        chosen[real] = pos[votes.source[real]] == best_pos[votes.item[real]]
        it, src, lab = votes.item[chosen], votes.source[chosen], votes.label[chosen]
        p = prior[None, :] * conf[src, :, lab]
        post[it] = p / p.sum(axis=1, keepdims=True)
        self.ranking_ = ranking.astype(np.int64)
        self.source_accuracy_ = acc
        self.posterior_ = _clamp(post, gold)
        self.prior_ = prior.astype(np.float32)
        self.confusion_ = conf.astype(np.float32)
        self.n_iter_ = 0
        self.converged_ = True
        self.log_likelihood_ = float("nan")

    def _predict_new(self, votes: VoteArrays) -> np.ndarray:
        k, s = len(self.classes_), votes.n_sources
        real = votes.label < k
        pos = np.empty(s, dtype=np.int64)
        pos[self.ranking_] = np.arange(s)
        best_pos = np.full(votes.n_items, s, dtype=np.int64)
        np.minimum.at(best_pos, votes.item[real], pos[votes.source[real]])
        prior = np.asarray(self.prior_, dtype=np.float64)
        post = np.tile(prior, (votes.n_items, 1))
        chosen = np.zeros(votes.n_votes, dtype=bool)
        chosen[real] = pos[votes.source[real]] == best_pos[votes.item[real]]
        conf = np.asarray(self.confusion_, dtype=np.float64)
        it, src, lab = votes.item[chosen], votes.source[chosen], votes.label[chosen]
        p = prior[None, :] * conf[src, :, lab]
        post[it] = p / p.sum(axis=1, keepdims=True)
        return post.astype(np.float32)


def _one_coin(acc: np.ndarray, k: int, n_obs: int, p_abs: np.ndarray | None = None) -> np.ndarray:
    """Confusions ``[s, k, l]``: ``acc`` on the diagonal, the rest spread evenly.

    Columns past ``k`` (abstaining as an answer) get the source's abstain rate
    ``p_abs`` under every class, so an abstention never moves the posterior.
    """
    s = len(acc)
    off = (1.0 - acc) / max(k - 1, 1)
    conf = np.broadcast_to(off[:, None, None], (s, k, n_obs)).copy()
    idx = np.arange(k)
    conf[:, idx, idx] = acc[:, None] if k > 1 else 1.0
    if n_obs > k:
        pa = np.zeros(s) if p_abs is None else p_abs
        conf[:, :, :k] *= (1.0 - pa)[:, None, None]
        conf[:, :, k:] = (pa / (n_obs - k))[:, None, None]
    return conf
