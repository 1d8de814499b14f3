"""The label-model contract and the EM machinery shared by every model.

Votes are turned once per fit into a sparse one-hot matrix ``A`` of shape
``(n_items, n_sources * n_classes)`` whose column ``s * K + l`` marks "source s
said l" (entries are vote weights). Then

- the E-step log-likelihood is one sparse product ``A @ W`` with
  ``W[s*K + l, k] = log P(source s says l | true k)``;
- the M-step sufficient statistics are ``A.T @ posterior``, reshaped to
  ``counts[s, l, k]``.

No Python loop over items or votes.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from .._errors import ConvergenceWarning, InputError, NotFittedError
from .._types import Float32Array, FloatArray, IntArray
from .._validation import check_params
from ..sources._votes import VoteArrays, check_votes

__all__ = ["BaseLabelModel"]

logger = logging.getLogger(__name__)


def _vote_matrix(votes: VoteArrays) -> sp.csr_matrix:
    """One-hot (source, label) matrix of shape (n_items, n_sources * n_classes)."""
    k = votes.n_classes
    col = votes.source.astype(np.int64) * k + votes.label.astype(np.int64)
    data = (
        np.ones(votes.n_votes, dtype=np.float64)
        if votes.weight is None
        else votes.weight.astype(np.float64)
    )
    return sp.csr_matrix(
        (data, (votes.item.astype(np.int64), col)), shape=(votes.n_items, votes.n_sources * k)
    )


def _n_true(votes: VoteArrays) -> int:
    """Number of true classes; observed labels past it (e.g. "abstain") are not classes."""
    return int(votes.info.get("n_true_classes", votes.n_classes))


def _log_lik(A: sp.csr_matrix, log_conf: FloatArray) -> np.ndarray:
    """Per-item log-likelihood of its votes under each true class.

    Parameters
    ----------
    A : sparse matrix of shape (n_items, n_sources * n_classes)
    log_conf : ndarray of shape (n_sources, n_classes, n_observed)
        ``log P(source says l | true k)`` indexed ``[s, k, l]``; ``n_observed`` is
        ``n_classes`` or ``n_classes + 1`` when abstaining is modelled as an answer.

    Returns
    -------
    ll : ndarray of shape (n_items, n_classes), float64
    """
    s, k, n_obs = log_conf.shape
    W = np.ascontiguousarray(log_conf.transpose(0, 2, 1).reshape(s * n_obs, k), dtype=np.float64)
    return np.asarray(A @ W)


def _softmax_rows(ll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row softmax and row log-sum-exp of a (n, K) float64 array.

    Works on the (K, n) transpose: reductions over a short last axis are slow in
    NumPy, element-wise operations across K long rows are not.
    """
    t = np.array(ll.T, order="C")
    m = t.max(axis=0)
    t -= m
    np.exp(t, out=t)
    z = t.sum(axis=0)
    t /= z
    return np.ascontiguousarray(t.T), np.log(z) + m


def _counts(
    A: sp.csr_matrix, post: np.ndarray, n_sources: int, n_obs: int, AT: sp.csr_matrix | None = None
) -> np.ndarray:
    """Expected counts ``[s, k, l]`` = sum of posterior mass of class k over votes (s, l).

    ``AT`` is ``A.T`` in CSR form, precomputed by EM loops that call this every iteration.
    """
    c = np.asarray((A.T if AT is None else AT) @ post).reshape(n_sources, n_obs, post.shape[1])
    return c.transpose(0, 2, 1)


def _clamp(post: np.ndarray, gold: IntArray) -> np.ndarray:
    idx = np.flatnonzero(gold >= 0)
    if len(idx):
        post[idx] = 0.0
        post[idx, gold[idx]] = 1.0
    return post


def _mv_posterior(
    A: sp.csr_matrix,
    n_sources: int,
    n_obs: int,
    weights: np.ndarray | None = None,
    n_true: int | None = None,
) -> np.ndarray:
    """Vote shares per item (optionally source-weighted); items without votes get uniform.

    Observed labels ``>= n_true`` (abstentions modelled as answers) are not counted.
    """
    n = A.shape[0]
    k = n_obs if n_true is None else n_true
    B = A if weights is None else sp.csr_matrix(A.multiply(np.repeat(weights, n_obs)[None, :]))
    counts = np.asarray(
        B @ np.tile(np.eye(n_obs)[:, :k], (n_sources, 1))
    )  # (n, k): sum over sources of votes for class l
    tot = counts.sum(axis=1, keepdims=True)
    out = np.full((n, k), 1.0 / k)
    nz = tot[:, 0] > 0
    out[nz] = counts[nz] / tot[nz]
    return out


class BaseLabelModel(BaseEstimator):  # type: ignore[misc]
    """Contract of every label model.

    ``fit(votes, gold=None)`` learns from a :class:`~truelabel.sources.VoteArrays`
    and sets

    - ``classes_`` : ndarray of shape (n_classes,)
    - ``posterior_`` : ndarray of shape (n_items, n_classes), float32, rows sum to 1
      (gold items clamped to their gold class)
    - ``labels_`` : ndarray of shape (n_items,), int64, argmax (ties: lowest class index)
    - ``confusion_`` : ndarray of shape (n_sources, n_classes, n_classes), float32,
      ``P(source says l | true k)`` indexed ``[s, k, l]`` (identity for gold sources)
    - ``prior_`` : ndarray of shape (n_classes,), float32
    - ``n_iter_``, ``converged_``, ``log_likelihood_``

    Gold labels (``gold`` or the votes of sources marked gold) are clamped: those
    items' posterior is one-hot and drives the source estimates.
    """

    _constraints: dict[str, list[Any]] = {}
    posterior_: np.ndarray
    confusion_: Any
    prior_: np.ndarray

    # ------------------------------------------------------------------ API
    def fit(self, votes: VoteArrays, gold: IntArray | None = None) -> BaseLabelModel:
        """Learn the posterior and source parameters from ``votes``.

        Parameters
        ----------
        votes : VoteArrays
        gold : ndarray of shape (n_items,), int, optional
            Gold class codes, -1 where unknown; combined with gold-source votes.

        Returns
        -------
        self
        """
        check_params(self)
        votes = check_votes(votes)
        g = _combined_gold(votes, gold)
        plain = votes.without_gold()
        self.classes_ = np.asarray(votes.classes)[: _n_true(votes)]
        self.n_sources_ = votes.n_sources
        self.n_observed_ = votes.n_classes
        self._fit(plain, g)
        post = _clamp(np.asarray(self.posterior_, dtype=np.float64), g)
        post /= post.sum(axis=1, keepdims=True)
        self.posterior_ = post.astype(np.float32)
        self.labels_ = np.argmax(self.posterior_, axis=1).astype(np.int64)
        if getattr(self, "confusion_", None) is None:
            self.confusion_ = _empirical_confusion(plain, post, 1.0)
        conf = np.array(self.confusion_, dtype=np.float32)
        conf[votes.is_gold_source] = np.eye(len(self.classes_), votes.n_classes, dtype=np.float32)
        self.confusion_ = conf
        self.gold_ = g
        return self

    def predict_proba(self, votes: VoteArrays | None = None) -> Float32Array:
        """Posterior over true classes.

        Parameters
        ----------
        votes : VoteArrays, optional
            New votes from the same sources and classes (e.g. a test split); default the
            fitted votes. New items are scored with the fitted source parameters.

        Returns
        -------
        posterior : ndarray of shape (n_items, n_classes), float32
        """
        self._check_fitted()
        if votes is None:
            return np.asarray(self.posterior_)
        votes = check_votes(votes)
        if self.n_observed_ > len(self.classes_) and votes.n_classes == len(self.classes_):
            from ..sources._votes import with_abstain_votes

            votes = with_abstain_votes(votes)  # fitted with abstaining as an answer
        if votes.n_classes != self.n_observed_ or votes.n_sources != self.n_sources_:
            raise InputError(
                f"votes have {votes.n_sources} sources and {votes.n_classes} classes but the model "
                f"was fitted on {self.n_sources_} and {len(self.classes_)}; code the new votes "
                "with the same source and class lists."
            )
        return self._predict_new(votes.without_gold())

    def predict(self, votes: VoteArrays | None = None) -> IntArray:
        """Most likely class code per item (ties: lowest index), shape (n_items,)."""
        return np.argmax(self.predict_proba(votes), axis=1).astype(np.int64)

    # ------------------------------------------------------------------ hooks
    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:  # pragma: no cover
        raise NotImplementedError

    def _predict_new(self, votes: VoteArrays) -> Float32Array:
        A = _vote_matrix(votes)
        ll = _log_lik(A, np.log(np.clip(self.confusion_.astype(np.float64), 1e-12, None)))
        ll += np.log(np.clip(self.prior_.astype(np.float64), 1e-12, None))
        post, _ = _softmax_rows(ll)
        return post.astype(np.float32)

    def _check_fitted(self) -> None:
        if not hasattr(self, "posterior_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(votes) first."
            )


def _combined_gold(votes: VoteArrays, gold: IntArray | None) -> np.ndarray:
    g = votes.gold_labels()
    if gold is not None:
        arr = np.asarray(gold)
        if arr.shape != (votes.n_items,):
            raise InputError(
                f"gold has shape {arr.shape}; expected ({votes.n_items},) with -1 for items "
                "without gold."
            )
        if arr.dtype.kind not in "iu":
            raise InputError("gold must hold integer class codes (-1 = no gold).")
        if arr.size and arr.max() >= votes.n_classes:
            raise InputError(
                f"gold holds class code {int(arr.max())} but there are only {votes.n_classes} "
                "classes; add the class to the class list."
            )
        g = np.where(arr >= 0, arr, g).astype(np.int64)
    return g


def _empirical_confusion(votes: VoteArrays, post: np.ndarray, smoothing: float) -> np.ndarray:
    """Confusion ``[s, k, l]`` from posterior-weighted vote counts with additive smoothing."""
    k = votes.n_classes
    A = _vote_matrix(votes)
    c = _counts(A, post, votes.n_sources, k) + smoothing / k
    return (c / c.sum(axis=2, keepdims=True)).astype(np.float32)


class _EMModel(BaseLabelModel):
    """Shared EM loop; subclasses implement ``_m_step(counts) -> log_conf``."""

    max_iter: int
    tol: float
    smoothing: float

    def _m_step(self, counts: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _init_posterior(self, A: sp.csr_matrix, votes: VoteArrays, gold: IntArray) -> np.ndarray:
        return _clamp(
            _mv_posterior(A, votes.n_sources, votes.n_classes, n_true=_n_true(votes)), gold
        )

    def _run_em(
        self,
        votes: VoteArrays,
        gold: IntArray,
        *,
        init: np.ndarray | None = None,
        item_log_prior: np.ndarray | None = None,
        warn: bool = True,
    ) -> None:
        s, n_obs = votes.n_sources, votes.n_classes
        A = _vote_matrix(votes)
        AT = A.T.tocsr()
        post = init if init is not None else self._init_posterior(A, votes, gold)
        has_gold = gold >= 0
        alpha = float(self.smoothing)
        best: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None
        prev = -np.inf
        history: list[float] = []
        converged = False
        n_iter = 0
        for it in range(1, self.max_iter + 1):
            n_iter = it
            # M-step
            log_conf = self._m_step(_counts(A, post, s, n_obs, AT))
            prior = post.sum(axis=0) + alpha
            prior /= prior.sum()
            log_prior = np.log(prior)[None, :] if item_log_prior is None else item_log_prior
            # E-step
            ll = _log_lik(A, log_conf) + log_prior
            post, lse = _softmax_rows(ll)
            # marginal log-likelihood of the votes (gold items: of their gold class)
            if has_gold.any():
                gi = np.flatnonzero(has_gold)
                lse = lse.copy()
                lse[gi] = ll[gi, gold[gi]]
                post = _clamp(post, gold)
            total = float(lse.sum())
            history.append(total)
            if best is None or total > best[0]:
                best = (total, post, log_conf, prior)
            if abs(total - prev) <= self.tol * max(1.0, abs(total)):
                converged = True
                break
            prev = total
        assert best is not None
        total, post, log_conf, prior = best
        self.posterior_ = post.astype(np.float32)
        self.confusion_ = np.exp(log_conf).astype(np.float32)
        self.prior_ = prior.astype(np.float32)
        self.n_iter_ = n_iter
        self.converged_ = converged
        self.log_likelihood_ = total
        self.log_likelihood_history_ = np.asarray(history)
        if not converged and warn:
            warnings.warn(
                f"{type(self).__name__} stopped after max_iter={self.max_iter} iterations with a "
                f"log-likelihood change above tol={self.tol:g}; using the best iterate "
                f"(log-likelihood {total:.4f}). Raise max_iter or tol.",
                ConvergenceWarning,
                stacklevel=4,
            )
        logger.info("%s: %d iterations, log-likelihood %.4f", type(self).__name__, n_iter, total)
