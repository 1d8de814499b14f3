"""Majority vote and the worker-agreement weighted vote (Wawa)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._types import IntArray
from .._validation import Interval
from ..sources._votes import VoteArrays
from ._base import BaseLabelModel, _clamp, _is_prior_like, _mv_posterior, _n_true, _vote_matrix

__all__ = ["MajorityVote", "WeightedVote"]


class MajorityVote(BaseLabelModel):
    """Each item's posterior is its share of votes per class.

    ``labels_`` is the most voted class; ties go to the lowest class index, so the
    result never depends on a random draw. Items without votes get the class shares
    of all votes. Vote weights, when the votes have them, are summed.

    Parameters
    ----------
    class_prior : array-like of shape (n_classes,), optional
        Posterior of items without votes (default: the class shares of all votes).
    random_state : int, Generator or None
        Unused (majority vote is deterministic); kept for a uniform interface.
    """

    _constraints = {"class_prior": [_is_prior_like], "random_state": ["random_state"]}

    def __init__(self, *, class_prior: Any = None, random_state: int | None = 0) -> None:
        self.class_prior = class_prior
        self.random_state = random_state

    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        k = _n_true(votes)
        A = _vote_matrix(votes)
        post = _mv_posterior(A, votes.n_sources, votes.n_classes, n_true=k)
        prior = np.bincount(votes.label, minlength=votes.n_classes)[:k].astype(np.float64) + 1e-9
        prior /= prior.sum()
        if self._class_prior is not None:
            prior = self._class_prior
        empty = _no_class_votes(A, votes.n_sources, votes.n_classes, k)
        post[empty] = prior
        self.posterior_ = _clamp(post, gold)
        self.prior_ = prior.astype(np.float32)
        self.confusion_ = None
        self.n_iter_ = 0
        self.converged_ = True
        self.log_likelihood_ = float("nan")

    def _predict_new(self, votes: VoteArrays) -> np.ndarray:
        A = _vote_matrix(votes)
        k = len(self.classes_)
        post = _mv_posterior(A, votes.n_sources, votes.n_classes, n_true=k)
        post[_no_class_votes(A, votes.n_sources, votes.n_classes, k)] = self.prior_
        return post.astype(np.float32)

    def _log_scores(self, votes: VoteArrays) -> tuple[np.ndarray, np.ndarray]:
        """``ll`` = (weighted) vote counts per class: tempering gives ``softmax(counts / T)``,
        a one-coin model with one shared accuracy whose argmax is the majority vote."""
        return _count_scores(self, votes, None)


def _count_scores(
    model: BaseLabelModel, votes: VoteArrays, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Vote counts as ``ll``; items with no class vote get the log prior as ``lp``."""
    k = len(model.classes_)
    A = _vote_matrix(votes)
    B = (
        A
        if weights is None
        else sp.csr_matrix(A.multiply(np.repeat(weights, votes.n_classes)[None, :]))
    )
    ll = np.asarray(B @ np.tile(np.eye(votes.n_classes)[:, :k], (votes.n_sources, 1)))
    lp = np.zeros_like(ll)
    empty = _no_class_votes(A, votes.n_sources, votes.n_classes, k)
    lp[empty] = np.log(np.clip(np.asarray(model.prior_, dtype=np.float64), 1e-300, None))
    return ll, lp


def _no_class_votes(A: sp.csr_matrix, n_sources: int, n_obs: int, k: int) -> np.ndarray:
    """Items with no vote for any true class (no votes, or only abstentions)."""
    counts = np.asarray(A @ np.tile(np.eye(n_obs)[:, :k], (n_sources, 1)))
    return counts.sum(axis=1) == 0


class WeightedVote(BaseLabelModel):
    """Worker-agreement-with-aggregate weighted vote (Wawa).

    Each source's weight is its agreement with the majority vote (and with gold
    where there is gold); the posterior is the weighted vote share.

    Parameters
    ----------
    n_rounds : int, default 1
        How many times weights are re-estimated against the weighted vote.
    class_prior : array-like of shape (n_classes,), optional
        Posterior of items without votes (default: the weighted class shares).
    random_state : int, Generator or None
        Unused; kept for a uniform interface.
    """

    _constraints = {
        "n_rounds": [Interval(int, 1, None)],
        "class_prior": [_is_prior_like],
        "random_state": ["random_state"],
    }

    def __init__(
        self, *, n_rounds: int = 1, class_prior: Any = None, random_state: int | None = 0
    ) -> None:
        self.n_rounds = n_rounds
        self.class_prior = class_prior
        self.random_state = random_state

    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        k, s, n_obs = _n_true(votes), votes.n_sources, votes.n_classes
        A = _vote_matrix(votes)
        empty = _no_class_votes(A, s, n_obs, k)
        post = _clamp(_mv_posterior(A, s, n_obs, n_true=k), gold)
        w = np.ones(s)
        real = votes.label < k
        for _ in range(self.n_rounds):
            hard = np.zeros((len(post), n_obs))
            hard[np.arange(len(post)), np.argmax(post, axis=1)] = 1.0
            hard[empty & (gold < 0)] = 0.0
            agree = np.bincount(
                votes.source[real], hard[votes.item, votes.label][real], minlength=s
            )
            n = np.bincount(votes.source[real], minlength=s)
            w = np.where(n > 0, agree / np.maximum(n, 1), 0.0)
            post = _clamp(_mv_posterior(A, s, n_obs, weights=w + 1e-9, n_true=k), gold)
        prior = post.sum(axis=0) + 1e-9
        prior /= prior.sum()
        if self._class_prior is not None:
            prior = self._class_prior
        post[empty & (gold < 0)] = prior
        self.weights_ = w.astype(np.float32)
        self.posterior_ = post
        self.prior_ = prior.astype(np.float32)
        self.confusion_ = None
        self.n_iter_ = self.n_rounds
        self.converged_ = True
        self.log_likelihood_ = float("nan")

    def _predict_new(self, votes: VoteArrays) -> np.ndarray:
        A = _vote_matrix(votes)
        k = len(self.classes_)
        post = _mv_posterior(
            A, votes.n_sources, votes.n_classes, weights=self.weights_ + 1e-9, n_true=k
        )
        post[_no_class_votes(A, votes.n_sources, votes.n_classes, k)] = self.prior_
        return post.astype(np.float32)

    def _log_scores(self, votes: VoteArrays) -> tuple[np.ndarray, np.ndarray]:
        """``ll`` = source-weighted vote counts (see :class:`MajorityVote`)."""
        return _count_scores(self, votes, np.asarray(self.weights_, dtype=np.float64) + 1e-9)
