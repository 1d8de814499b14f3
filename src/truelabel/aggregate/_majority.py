"""Majority vote and the worker-agreement weighted vote (Wawa)."""

from __future__ import annotations

import numpy as np

from .._types import IntArray
from .._validation import Interval
from ..sources._votes import VoteArrays
from ._base import BaseLabelModel, _clamp, _mv_posterior, _vote_matrix

__all__ = ["MajorityVote", "WeightedVote"]


class MajorityVote(BaseLabelModel):
    """Each item's posterior is its share of votes per class.

    ``labels_`` is the most voted class; ties go to the lowest class index, so the
    result never depends on a random draw. Items without votes get the class shares
    of all votes. Vote weights, when the votes have them, are summed.

    Parameters
    ----------
    random_state : int, Generator or None
        Unused (majority vote is deterministic); kept for a uniform interface.
    """

    _constraints = {"random_state": ["random_state"]}

    def __init__(self, *, random_state: int | None = 0) -> None:
        self.random_state = random_state

    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        k = votes.n_classes
        A = _vote_matrix(votes)
        post = _mv_posterior(A, votes.n_sources, k)
        prior = np.bincount(votes.label, minlength=k).astype(np.float64) + 1e-9
        prior /= prior.sum()
        empty = np.asarray(A.sum(axis=1)).ravel() == 0
        post[empty] = prior
        self.posterior_ = _clamp(post, gold)
        self.prior_ = prior.astype(np.float32)
        self.confusion_ = None
        self.n_iter_ = 0
        self.converged_ = True
        self.log_likelihood_ = float("nan")

    def _predict_new(self, votes: VoteArrays) -> np.ndarray:
        A = _vote_matrix(votes)
        post = _mv_posterior(A, votes.n_sources, votes.n_classes)
        empty = np.asarray(A.sum(axis=1)).ravel() == 0
        post[empty] = self.prior_
        return post.astype(np.float32)


class WeightedVote(BaseLabelModel):
    """Worker-agreement-with-aggregate weighted vote (Wawa).

    Each source's weight is its agreement with the majority vote (and with gold
    where there is gold); the posterior is the weighted vote share.

    Parameters
    ----------
    n_rounds : int, default 1
        How many times weights are re-estimated against the weighted vote.
    random_state : int, Generator or None
        Unused; kept for a uniform interface.
    """

    _constraints = {"n_rounds": [Interval(int, 1, None)], "random_state": ["random_state"]}

    def __init__(self, *, n_rounds: int = 1, random_state: int | None = 0) -> None:
        self.n_rounds = n_rounds
        self.random_state = random_state

    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        k, s = votes.n_classes, votes.n_sources
        A = _vote_matrix(votes)
        post = _clamp(_mv_posterior(A, s, k), gold)
        w = np.ones(s)
        for _ in range(self.n_rounds):
            hard = np.zeros_like(post)
            hard[np.arange(len(post)), np.argmax(post, axis=1)] = 1.0
            hard[np.asarray(A.sum(axis=1)).ravel() == 0] = 0.0
            agree = np.bincount(votes.source, hard[votes.item, votes.label], minlength=s)
            n = np.bincount(votes.source, minlength=s)
            w = np.where(n > 0, agree / np.maximum(n, 1), 0.0)
            post = _clamp(_mv_posterior(A, s, k, weights=w + 1e-9), gold)
        prior = post.sum(axis=0) + 1e-9
        prior /= prior.sum()
        empty = np.asarray(A.sum(axis=1)).ravel() == 0
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
        post = _mv_posterior(A, votes.n_sources, votes.n_classes, weights=self.weights_ + 1e-9)
        empty = np.asarray(A.sum(axis=1)).ravel() == 0
        post[empty] = self.prior_
        return post.astype(np.float32)
