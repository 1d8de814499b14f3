"""A matrix-completion label model for labeling functions (after Ratner et al., 2019).

Instead of EM over items, the source parameters are fitted to the *overlap matrix*
of the votes. Write ``psi(item)`` for the one-hot vector of length ``S * K`` whose
entry ``s * K + l`` is 1 when source ``s`` voted ``l`` on the item. If sources are
conditionally independent given the true class ``Y``, the second moments factor:

    O = E[psi psi^T] = mu diag(p) mu^T   (off the source-diagonal blocks)

with ``mu[s*K + l, y] = P(source s says l | Y = y)`` (abstaining = no entry) and
``p`` the class prior; the diagonal blocks only give the marginals
``sum_y mu[s*K + l, y] p_y = P(source s says l)``. ``mu`` is fitted by minimising
the squared residual of both equations (plus an optional l2 pull toward the start)
with full-batch gradient steps, as Snorkel's ``LabelModel`` does, or with L-BFGS-B.
Nothing is iterated over items: ``O`` is one sparse product and every step is a
few dense products of size ``(S*K) x (S*K)``.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment, minimize

from .._errors import ConvergenceWarning, InputError
from .._numeric import softmax_with_lse
from .._types import Float32Array, IntArray
from .._validation import Interval, Options
from ..sources._votes import VoteArrays
from ._base import BaseLabelModel, _clamp, _is_prior_like, _n_true

__all__ = ["MatrixCompletionLabelModel"]

logger = logging.getLogger(__name__)

#: largest S*K for which the dense overlap matrix is built (4000^2 float64 = 128 MB)
MAX_DIM = 4000


def _real_vote_matrix(votes: VoteArrays, k: int) -> sp.csr_matrix:
    """One-hot matrix of real (non-abstain) votes, shape (n_items, n_sources * k)."""
    keep = votes.label < k
    item = votes.item[keep].astype(np.int64)
    col = votes.source[keep].astype(np.int64) * k + votes.label[keep].astype(np.int64)
    data = np.ones(len(item)) if votes.weight is None else votes.weight[keep].astype(np.float64)
    A = sp.csr_matrix((data, (item, col)), shape=(votes.n_items, votes.n_sources * k))
    A.sum_duplicates()
    return A


class MatrixCompletionLabelModel(BaseLabelModel):
    """Label model fitted to the votes' overlap matrix (matrix completion), not by EM.

    Minimises over ``mu`` of shape ``(S*K, K)``::

        || mask * (O - mu diag(p) mu^T) ||^2 + || mu p - diag(O) ||^2
            + l2 * || mu - mu0 ||^2

    where ``O = A^T A / n_items`` is the overlap of the one-hot real votes ``A``
    (abstentions are not entries), ``mask`` drops each source's own block, ``p`` is
    the class prior (given, or the majority-vote class shares) and ``mu0`` is the
    start: every source right with probability ``init_accuracy``. Class labels are
    identified by overlaps only up to a permutation of classes with equal prior;
    among those the one under which sources are most often right is kept (linear
    assignment). The posterior of an item is ``p_y * prod_{votes (s, l)} mu[s*K + l, y]``,
    normalised, with ``mu`` clipped to ``[clip, 1 - clip]``; with
    ``abstain_term=True`` each abstaining source also contributes
    ``P(abstain | y) = 1 - sum_l mu[s*K + l, y]``.

    Needs at least three sources that vote (with two, the overlaps cannot separate
    the sources' accuracies) and ``S * K <= 4000`` (dense overlap matrix). Gold items
    are clamped in the posterior but do not change ``mu`` (only vote overlaps do).

    Parameters
    ----------
    solver : {"gd", "lbfgs"}, default "gd"
        ``"gd"``: ``n_epochs`` full-batch gradient steps with heavy-ball momentum 0.9
        from ``mu0`` (projected on ``[0, 1]``), as Snorkel's LabelModel trains; the
        small number of steps keeps ``mu`` near the start where the overlaps say
        little. ``"lbfgs"``: L-BFGS-B to convergence (at most ``n_epochs``
        iterations) under the bounds ``0 <= mu <= 1``.
    n_epochs : int, default 100
    lr : float, default 0.01
        Step size of ``"gd"``.
    l2 : float, default 0.0
        Weight of the pull ``l2 * ||mu - mu0||^2`` toward the start.
    init_accuracy : float, default 0.7
        Starting (and l2-target) accuracy of every source (Snorkel's ``prec_init``):
        ``mu0[s*K + l, l] = init_accuracy * P(s says l) / p_l``, other entries 0.
    clip : float, optional
        ``mu`` is clipped to ``[clip, 1 - clip]`` when scoring items; default
        ``min(0.01, 10^-ceil(log10 n_items))`` (Snorkel's ``mu_eps``).
    abstain_term : bool, default False
        Also score abstentions by ``P(abstain | y) = 1 - sum_l mu[s*K + l, y]``. Off by
        default: whether a rule fires correlates across rules much more than the
        independence model assumes.
    class_prior : array-like of shape (n_classes,), optional
        The class prior ``p`` (e.g. the class shares of a labelled validation split,
        Snorkel's ``class_balance``). Default None: the class shares of the majority
        vote over items with votes (fixed while ``mu`` is fitted).
    random_state : int, Generator or None
        Unused (deterministic start); kept for a uniform interface.

    Attributes
    ----------
    posterior_ : ndarray of shape (n_items, n_classes), float32
    confusion_ : ndarray of shape (n_sources, n_classes, n_observed), float32
        ``P(source says l | true k)`` indexed ``[s, k, l]``; when abstaining is an
        observed label (labeling functions) its column is ``1 - sum_l mu``, otherwise
        each row is ``mu`` renormalised over the real labels.
    mu_ : ndarray of shape (n_sources * n_classes, n_classes), float32
        The fitted ``P(source s says l | y)`` (abstain excluded), row ``s*K + l``.
    prior_ : ndarray of shape (n_classes,), float32
    objective_ : float
        Final value of the objective.
    n_iter_, converged_, log_likelihood_
        Optimiser iterations, its success flag, and the log-likelihood of the real
        votes under the fitted model (sum over items of ``log sum_y p_y prod mu``).
    """

    _constraints = {
        "solver": [Options(("gd", "lbfgs"))],
        "n_epochs": [Interval(int, 1, None)],
        "lr": [Interval(float, 0, None, closed="neither")],
        "l2": [Interval(float, 0, None)],
        "init_accuracy": [Interval(float, 0, 1, closed="neither")],
        "clip": [Interval(float, 0, 0.5, closed="left"), None],
        "abstain_term": [bool],
        "class_prior": [_is_prior_like],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        solver: str = "gd",
        n_epochs: int = 100,
        lr: float = 0.01,
        l2: float = 0.0,
        init_accuracy: float = 0.7,
        clip: float | None = None,
        abstain_term: bool = False,
        class_prior: Any = None,
        random_state: int | None = 0,
    ) -> None:
        self.solver = solver
        self.n_epochs = n_epochs
        self.lr = lr
        self.l2 = l2
        self.init_accuracy = init_accuracy
        self.clip = clip
        self.abstain_term = abstain_term
        self.class_prior = class_prior
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        k = _n_true(votes)
        s = votes.n_sources
        d = s * k
        if k < 2:
            raise InputError(
                f"MatrixCompletionLabelModel needs at least 2 classes; got {k}. "
                "Use method 'mv' for single-class votes."
            )
        A = _real_vote_matrix(votes, k)
        n_active = int((np.bincount(votes.source[votes.label < k], minlength=s) > 0).sum())
        if n_active < 3:
            raise InputError(
                f"the matrix-completion label model needs at least 3 sources that vote; got "
                f"{n_active}. With fewer sources their accuracies are not identified by vote "
                "overlaps; use method 'mv', 'onecoin' or 'ds' instead."
            )
        if d > MAX_DIM:
            raise InputError(
                f"the matrix-completion label model builds a dense ({d} x {d}) overlap matrix "
                f"({s} sources x {k} classes), above the limit {MAX_DIM}; use method 'ds' or "
                "'ds_pooled' for large crowds."
            )
        n = max(votes.n_items, 1)
        ovl = np.asarray((A.T @ A).todense(), dtype=np.float64) / n
        marg = np.diag(ovl).copy()  # P(source s says l), row s*K + l
        blocks = np.repeat(np.arange(s), k)
        mask = (blocks[:, None] != blocks[None, :]).astype(np.float64)
        Om = ovl * mask

        fixed = self._class_prior
        p = fixed if fixed is not None else self._start_prior(A, s, k)  # (k,), fixed
        mu0 = self._mu_init(marg, p, s, k)
        lam = float(self.l2)
        mup_w = p[None, :]

        def grad(mu: np.ndarray) -> tuple[float, np.ndarray]:
            mup = mu * mup_w
            R = (mup @ mu.T) * mask - Om  # symmetric residual on the off-block entries
            r2 = mu @ p - marg
            dmu = mu - mu0
            f = float(np.vdot(R, R) + r2 @ r2 + lam * np.vdot(dmu, dmu))
            g = 4.0 * (R @ mup) + 2.0 * r2[:, None] * mup_w + 2.0 * lam * dmu
            return f, g

        if self.solver == "lbfgs":
            res = minimize(
                lambda x: (lambda fg: (fg[0], fg[1].ravel()))(grad(x.reshape(d, k))),
                mu0.ravel(),
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * (d * k),
                options={"maxiter": int(self.n_epochs), "ftol": 1e-12, "gtol": 0.0},
            )
            mu, obj, n_iter = res.x.reshape(d, k), float(res.fun), int(res.nit)
            converged = bool(res.success) or n_iter < int(self.n_epochs)
        else:  # full-batch gradient descent with heavy-ball momentum, projected on [0, 1]
            mu, vel = mu0.copy(), np.zeros_like(mu0)
            lr, beta = float(self.lr), 0.9
            obj = np.inf
            for _ in range(int(self.n_epochs)):
                obj, g = grad(mu)
                vel = beta * vel + g
                mu = np.clip(mu - lr * vel, 0.0, 1.0)
            obj = grad(mu)[0]
            n_iter, converged = int(self.n_epochs), bool(np.isfinite(obj))
        if not np.isfinite(obj):  # pragma: no cover - the projection keeps mu in [0, 1]
            raise InputError(
                "the matrix-completion objective diverged (non-finite); lower lr "
                f"(got {self.lr:g}) or use solver='lbfgs'."
            )
        mu = self._fix_permutation(mu, p, s, k)
        # each source's probabilities over its real labels cannot exceed 1 per class
        tot = mu.reshape(s, k, k).sum(axis=1, keepdims=True)
        mu = (mu.reshape(s, k, k) / np.maximum(tot, 1.0)).reshape(d, k)
        self.mu_ = mu.astype(np.float32)
        self.objective_ = obj
        self.n_iter_ = n_iter
        self.converged_ = converged
        if not self.converged_:
            warnings.warn(
                f"MatrixCompletionLabelModel: L-BFGS-B stopped after n_epochs={self.n_epochs} "
                "iterations; using the last iterate. Raise n_epochs.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._clip = (
            float(self.clip)
            if self.clip is not None
            else min(0.01, 10.0 ** -np.ceil(np.log10(max(n, 2))))
        )
        self.prior_ = p.astype(np.float32)
        self._k = k
        log_post, lse = self._score(A, votes, mu, p)
        post, _ = softmax_with_lse(log_post)
        self.posterior_ = _clamp(post, gold).astype(np.float32)
        self.log_likelihood_ = float(lse.sum())
        self.confusion_ = self._confusion(mu, s, k, votes.n_classes).astype(np.float32)
        logger.info(
            "MatrixCompletionLabelModel: %d %s iterations, objective %.3g",
            self.n_iter_,
            self.solver,
            self.objective_,
        )

    def _start_prior(self, A: sp.csr_matrix, s: int, k: int) -> np.ndarray:
        """Class shares of the majority vote over items with votes (smoothed), shape (k,)."""
        per_class = np.asarray(A @ np.tile(np.eye(k), (s, 1)))  # (n, k) votes per class
        voted = per_class.sum(axis=1) > 0
        if not voted.any():
            return np.full(k, 1.0 / k)
        shares = per_class[voted] / per_class[voted].sum(axis=1, keepdims=True)
        p = shares.mean(axis=0) + 1.0 / (10 * k)
        return p / p.sum()

    def _mu_init(self, marg: np.ndarray, p: np.ndarray, s: int, k: int) -> np.ndarray:
        """``mu0`` of shape (S*K, K): ``mu0[s*K + l, l] = a * P(s says l) / p_l``, else 0."""
        a = float(self.init_accuracy)
        right = np.clip(a * marg.reshape(s, k) / p[None, :], 0.0, 1.0)  # (s, l)
        mu = np.zeros((s, k, k))
        idx = np.arange(k)
        mu[:, idx, idx] = right
        return mu.reshape(s * k, k)

    @staticmethod
    def _fix_permutation(mu: np.ndarray, p: np.ndarray, s: int, k: int) -> np.ndarray:
        """Permute columns of ``mu`` among classes with equal prior (as Snorkel does).

        The overlaps identify ``mu`` only up to such a permutation; keep the one under
        which the sources are most often right when they vote, i.e. maximise
        ``sum_s sum_y P(s says y, Y = y) / P(s votes)`` by a linear assignment.
        """
        joint = mu.reshape(s, k, k) * p[None, None, :]  # [s, l, y] = P(s says l, Y = y)
        cover = joint.sum(axis=(1, 2))
        gain = (joint / np.maximum(cover, 1e-12)[:, None, None]).sum(axis=0)  # [l, y]
        cols = np.arange(k)
        groups = np.round(p, 3)
        for g in np.unique(groups):
            idx = np.flatnonzero(groups == g)
            if len(idx) > 1:
                _, c = linear_sum_assignment(-gain[np.ix_(idx, idx)])
                cols[idx] = idx[c]
        return mu[:, cols]

    def _score(
        self, A: sp.csr_matrix, votes: VoteArrays, mu: np.ndarray, p: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unnormalised log-posterior (n, K) and its row log-sum-exp."""
        c = self._clip
        ll = np.asarray(A @ np.log(np.clip(mu, c, 1 - c))) + np.log(np.clip(p, 1e-12, None))
        if self.abstain_term:
            s, k = votes.n_sources, mu.shape[1]
            real = votes.label < k
            active = np.bincount(votes.source[real], minlength=s) > 0
            p_abs = np.clip(1.0 - mu.reshape(s, k, k).sum(axis=1), c, 1 - c)  # (s, y)
            log_abs = np.where(active[:, None], np.log(p_abs), 0.0)
            fired = sp.csr_matrix(
                (np.ones(int(real.sum())), (votes.item[real], votes.source[real])),
                shape=(votes.n_items, s),
            )
            fired.sum_duplicates()
            fired.data[:] = 1.0
            # every active source that did not fire on the item abstained on it
            ll += log_abs.sum(axis=0)[None, :] - np.asarray(fired @ log_abs)
        m = ll.max(axis=1, keepdims=True)
        lse = np.log(np.exp(ll - m).sum(axis=1)) + m[:, 0]
        return ll, lse

    @staticmethod
    def _confusion(mu: np.ndarray, s: int, k: int, n_obs: int) -> np.ndarray:
        conf = np.transpose(mu.reshape(s, k, k), (0, 2, 1)).astype(np.float64)  # [s, y, l]
        if n_obs > k:
            ab = np.clip(1.0 - conf.sum(axis=2, keepdims=True), 0.0, 1.0)
            extra = n_obs - k
            conf = np.concatenate([conf, np.repeat(ab / extra, extra, axis=2)], axis=2)
            return conf / np.clip(conf.sum(axis=2, keepdims=True), 1e-12, None)
        conf = conf + 1e-6
        return conf / conf.sum(axis=2, keepdims=True)

    # ------------------------------------------------------------------ predict
    def _predict_new(self, votes: VoteArrays) -> Float32Array:
        A = _real_vote_matrix(votes, self._k)
        ll, _ = self._score(A, votes, self.mu_.astype(np.float64), self.prior_.astype(np.float64))
        post, _ = softmax_with_lse(ll)
        return post.astype(np.float32)
