"""Dawid–Skene with full confusion matrices, and the one-coin variant (shared EM)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._types import IntArray
from .._validation import Interval, Options
from ..sources._votes import VoteArrays
from ._base import _EMModel, _is_prior_like

__all__ = ["DawidSkene", "OneCoinDawidSkene", "PooledDawidSkene"]


class DawidSkene(_EMModel):
    """Dawid–Skene: each source has a full confusion matrix, fitted by EM.

    EM starts from the majority-vote shares, alternates the M-step (confusions
    ``P(source says l | true k)`` and the class prior from posterior-weighted vote
    counts plus ``smoothing`` pseudo-counts per cell) and the E-step (posterior
    ``∝ prior_k · Π_votes P(l | k)``), and stops when the relative change of the
    marginal log-likelihood falls under ``tol``. Gold items stay clamped.

    Parameters
    ----------
    max_iter : int, default 100
    tol : float, default 1e-5
        Relative change of the log-likelihood that counts as converged.
    smoothing : float, default 0.1
        Pseudo-count added to every confusion cell and to the class prior; keeps
        sources with few votes from getting 0/1 confusions.
    pooling : float, default 0.0
        Pseudo-votes drawn toward the pooled confusion matrix of all sources
        (empirical-Bayes shrinkage): a source with few votes looks like the average
        source instead of an extreme one. 0 = classic Dawid–Skene.
    acceleration : {"none", "squarem"}, default "none"
        ``"none"`` = classic EM (one M-step and one E-step per iteration).
        ``"squarem"`` extrapolates EM steps (SQUAREM, monotone: an extrapolated step is
        kept only if it does not lower the log-likelihood). It needs fewer likelihood
        evaluations on large, slowly converging crowds (AdultContent2: 20 instead of 27;
        CIFAR-10N: 8 instead of 17) but lands on a slightly different (higher-likelihood)
        point, which on the crowd benchmarks was 0.1-0.3 points less accurate on five
        datasets, and takes more evaluations on some small ones; hence opt-in.
    class_prior : array-like of shape (n_classes,), optional
        A fixed class prior (normalised; e.g. the class shares of a labelled
        validation split). Default None: estimated by EM.
    random_state : int, Generator or None
        Unused (the initialisation is deterministic); kept for a uniform interface.
    engine : {None, "memory", "local", "dask"} or truelabel.scale.Engine, default None
        Where the EM steps run. ``None``/``"memory"``: on one sparse vote matrix in memory.
        ``"local"``: the same EM loop with every E-step a map-sum over vote chunks cut at
        item boundaries (memory bounded by one chunk plus the final posterior); ``"dask"``
        or an Engine: those chunks as tasks on a Dask cluster. Same fit, same attributes.
    chunk_votes : int, optional
        Votes per chunk on the chunked engines (default: what a 2 GiB budget allows).

    Attributes
    ----------
    posterior_ : ndarray of shape (n_items, n_classes), float32
    confusion_ : ndarray of shape (n_sources, n_classes, n_classes), float32
    prior_ : ndarray of shape (n_classes,), float32
    n_iter_, converged_, log_likelihood_
    """

    _constraints = {
        "max_iter": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None)],
        "smoothing": [Interval(float, 0, None)],
        "pooling": [Interval(float, 0, None)],
        "acceleration": [Options(("squarem", "none"))],
        "class_prior": [_is_prior_like],
        "random_state": ["random_state"],
        "chunk_votes": [Interval(int, 1, None), None],
    }
    _extrapolates = True

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 0.1,
        pooling: float = 0.0,
        acceleration: str = "none",
        class_prior: Any = None,
        random_state: int | None = 0,
        engine: Any = None,
        chunk_votes: int | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.pooling = pooling
        self.acceleration = acceleration
        self.class_prior = class_prior
        self.random_state = random_state
        self.engine = engine
        self.chunk_votes = chunk_votes

    def _m_step(self, counts: np.ndarray) -> np.ndarray:
        c = counts + self.smoothing
        if self.pooling > 0:
            pooled = counts.sum(axis=0) + self.smoothing
            c = c + self.pooling * pooled / pooled.sum(axis=1, keepdims=True)
        return np.log(np.maximum(c / c.sum(axis=2, keepdims=True), 1e-300))

    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        if self.engine is None or self.engine == "memory":
            self._run_em(votes, gold)
            return
        from ..scale._dawid_skene import fit_on_engine

        fit_on_engine(self, votes, gold)


class OneCoinDawidSkene(DawidSkene):
    """One-coin Dawid–Skene: each source is right with probability ``a_s``, else uniform.

    ``P(l | k) = a_s`` if ``l == k`` else ``(1 - a_s) / (K - 1)``. Fewer parameters
    than :class:`DawidSkene`, so steadier with few votes per source.

    Parameters
    ----------
    max_iter, tol, smoothing, pooling, acceleration, class_prior, random_state
        As in :class:`DawidSkene`; ``smoothing`` is a pseudo-count on each source's
        right and wrong votes, ``pooling`` pseudo-votes at the pooled accuracy.
        ``acceleration`` is ignored (plain EM): an extrapolated full confusion matrix
        would not be a one-coin matrix.
    """

    _extrapolates = False

    def _m_step(self, counts: np.ndarray) -> np.ndarray:
        k, n_obs = counts.shape[1], counts.shape[2]
        p_abs = None
        if n_obs > k:  # abstaining modelled as an answer: P(abstain | k) per source and class
            ab = counts[:, :, k:].sum(axis=2)
            p_abs = (ab + self.smoothing) / (counts.sum(axis=2) + 2 * self.smoothing)
            counts = counts[:, :, :k]
        right = np.trace(counts, axis1=1, axis2=2)
        total = counts.sum(axis=(1, 2))
        if self.pooling > 0:
            pooled_acc = (right.sum() + self.smoothing) / (total.sum() + 2 * self.smoothing)
            right = right + self.pooling * pooled_acc
            total = total + self.pooling
        acc = (right + self.smoothing) / (total + 2 * self.smoothing)
        acc = np.clip(acc, 1e-6, 1 - 1e-6)
        off = (1 - acc) / max(k - 1, 1)
        conf = np.broadcast_to(off[:, None, None], counts.shape).copy()
        idx = np.arange(k)
        conf[:, idx, idx] = acc[:, None] if k > 1 else 1.0
        if p_abs is not None:
            extra = n_obs - k
            conf = np.concatenate(
                [
                    conf * (1 - p_abs)[:, :, None],
                    np.repeat(p_abs[:, :, None] / extra, extra, axis=2),
                ],
                axis=2,
            )
        return np.log(conf)


class PooledDawidSkene(DawidSkene):
    """Dawid–Skene shrunk toward the pooled confusion matrix (empirical Bayes).

    The same model as :class:`DawidSkene` with ``pooling=7``: every source's
    confusion gets 7 pseudo-votes distributed like the average source's, so a
    worker with a handful of votes is not given an extreme confusion matrix. It
    suits crowds with many sparse workers (e.g. AdultContent2); the strength 7 was
    chosen on the crowd benchmarks of BENCHMARKS.md (3–10 all behave similarly).
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 0.1,
        pooling: float = 7.0,
        acceleration: str = "none",
        class_prior: Any = None,
        random_state: int | None = 0,
        engine: Any = None,
        chunk_votes: int | None = None,
    ) -> None:
        super().__init__(
            max_iter=max_iter,
            tol=tol,
            smoothing=smoothing,
            pooling=pooling,
            acceleration=acceleration,
            class_prior=class_prior,
            random_state=random_state,
            engine=engine,
            chunk_votes=chunk_votes,
        )
