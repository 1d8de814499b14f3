"""A spammer-aware model in the spirit of MACE (Hovy et al., 2013)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._types import IntArray
from .._validation import Interval
from ..sources._votes import VoteArrays
from ._base import _clamp, _EMModel, _is_prior_like, _mv_posterior, _n_true

__all__ = ["MACE"]


class MACE(_EMModel):
    """Each source either knows the answer (probability ``theta_s``) or spams.

    When spamming, source ``s`` draws its label from its own distribution
    ``xi_s``; so ``P(l | k) = theta_s [l == k] + (1 - theta_s) xi_s[l]``. EM with
    Beta/Dirichlet pseudo-counts; ``spammer_score_ = 1 - theta_s``.

    Parameters
    ----------
    max_iter : int, default 100
    tol : float, default 1e-6
    smoothing : float, default 0.5
        Pseudo-count on the competent/spamming split and on each ``xi`` cell.
    class_prior : array-like of shape (n_classes,), optional
        A fixed class prior (e.g. the class shares of a labelled split); default
        None: estimated by EM.
    random_state : int, Generator or None
        Unused (deterministic start from majority vote).

    Attributes
    ----------
    competence_ : ndarray of shape (n_sources,), float32
        ``theta_s``: probability the source answers from knowledge.
    spammer_score_ : ndarray of shape (n_sources,), float32
        ``1 - theta_s``; higher = more spam.
    """

    _constraints = {
        "max_iter": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None)],
        "smoothing": [Interval(float, 0, None)],
        "class_prior": [_is_prior_like],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-6,
        smoothing: float = 0.5,
        class_prior: Any = None,
        random_state: int | None = 0,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.class_prior = class_prior
        self.random_state = random_state

    def _init_posterior(self, A: sp.csr_matrix, votes: VoteArrays, gold: IntArray) -> np.ndarray:
        s, n_obs = votes.n_sources, votes.n_classes
        k = _n_true(votes)
        self._theta = np.full(s, 0.7)
        # xi spreads over real answers only: abstaining (when modelled) has its own rate
        self._xi = np.full((s, k), 1.0 / k)
        return _clamp(_mv_posterior(A, s, n_obs, n_true=_n_true(votes)), gold)

    def _m_step(self, counts: np.ndarray) -> np.ndarray:
        s, k, n_obs = counts.shape
        a = self.smoothing
        p_abs = None
        if n_obs > k:
            # abstaining modelled as an answer (labeling functions): P(abstain | k) per source
            # and class, as in OneCoinDawidSkene. Counting abstentions as spam made every
            # labeling function a spammer and collapsed the posterior to one class.
            ab = counts[:, :, k:].sum(axis=2)
            p_abs = (ab + a) / (counts.sum(axis=2) + 2 * a)
            counts = counts[:, :, :k]
        n_sl = counts.sum(axis=1)  # (s, l) votes with label l
        q_sl = np.diagonal(counts, axis1=1, axis2=2).copy()  # mass that l is right
        th = self._theta[:, None]
        nonspam = q_sl * th / (th + (1 - th) * self._xi + 1e-300)
        spam = np.clip(n_sl - nonspam, 0.0, None)
        self._theta = (nonspam.sum(axis=1) + a) / (n_sl.sum(axis=1) + 2 * a)
        xi = spam + a
        self._xi = xi / xi.sum(axis=1, keepdims=True)
        conf = (1 - self._theta)[:, None, None] * self._xi[:, None, :] + np.einsum(
            "s,kl->skl", self._theta, np.eye(k)
        )
        if p_abs is not None:
            extra = n_obs - k
            conf = np.concatenate(
                [
                    conf * (1 - p_abs)[:, :, None],
                    np.repeat(p_abs[:, :, None] / extra, extra, axis=2),
                ],
                axis=2,
            )
        return np.log(np.clip(conf, 1e-12, None))

    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        self._run_em(votes, gold)
        self.competence_ = self._theta.astype(np.float32)
        self.spammer_score_ = (1 - self._theta).astype(np.float32)
