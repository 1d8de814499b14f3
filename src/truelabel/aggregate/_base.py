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
from .._numeric import softmax_with_lse
from .._progress import progress
from .._types import Float32Array, FloatArray, IntArray
from .._validation import check_params
from ..sources._votes import VoteArrays, check_votes

__all__ = ["BaseLabelModel"]

logger = logging.getLogger(__name__)


def _vote_matrix(votes: VoteArrays) -> sp.csr_matrix:
    """One-hot (source, label) matrix of shape (n_items, n_sources * n_classes).

    Built straight in CSR form (rows = items): one counting pass over the item codes
    instead of a COO -> CSR conversion. Repeated (item, source, label) votes stay as
    separate entries, which every sparse product sums exactly as a summed entry.
    """
    k = votes.n_classes
    item = votes.item.astype(np.int64, copy=False)
    col = votes.source.astype(np.int64) * k + votes.label.astype(np.int64)
    data = (
        np.ones(votes.n_votes, dtype=np.float64)
        if votes.weight is None
        else votes.weight.astype(np.float64)
    )
    if item.size > 1 and bool((item[1:] < item[:-1]).any()):
        order = np.argsort(item, kind="stable")
        col, data = col[order], data[order]
    idx = np.int32 if max(len(col), votes.n_sources * k) < 2**31 - 1 else np.int64
    indptr = np.zeros(votes.n_items + 1, dtype=idx)
    np.cumsum(np.bincount(item, minlength=votes.n_items), out=indptr[1:])
    return sp.csr_matrix(
        (data, col.astype(idx, copy=False), indptr), shape=(votes.n_items, votes.n_sources * k)
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


def _counts(
    A: sp.csr_matrix, post: np.ndarray, n_sources: int, n_obs: int, AT: Any = None
) -> np.ndarray:
    """Expected counts ``[s, k, l]`` = sum of posterior mass of class k over votes (s, l).

    ``AT`` is ``A.T`` (any sparse form), precomputed by EM loops that call this every iteration.
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


def _is_prior_like(value: Any) -> bool:
    """a sequence of non-negative class weights (one per class), or None"""
    if value is None:
        return True
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return arr.ndim == 1 and arr.size > 0 and bool(np.all(np.isfinite(arr)))


def _prior_param(value: Any, n_classes: int) -> np.ndarray | None:
    """The ``class_prior`` hyperparameter as a normalised float64 array (or None).

    Raises
    ------
    InputError
        Wrong length, negative or all-zero weights.
    """
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n_classes,):
        raise InputError(
            f"class_prior has {arr.size} entries but there are {n_classes} classes; give one "
            "weight per class in the votes' class order (e.g. class shares of a labelled split)."
        )
    if (arr < 0).any() or arr.sum() <= 0:
        raise InputError(
            f"class_prior must hold non-negative weights with a positive sum; got {arr.tolist()}."
        )
    arr = arr / arr.sum()
    # a zero prior would forbid a class outright; keep it tiny but possible
    arr = np.clip(arr, 1e-6, None)
    return arr / arr.sum()


def _not_worse(new: float, best: float) -> bool:
    """Whether an EM iterate with log-likelihood ``new`` replaces the best so far: when
    it is not lower beyond rounding. A tie keeps the later iterate, so that the choice
    does not depend on the order of summation (that is, on the order of the items)."""
    return new >= best - 1e-10 * max(1.0, abs(best))


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

    Every model takes a ``class_prior`` hyperparameter (one weight per class, e.g. the
    class shares of a labelled validation split, as Snorkel's ``class_balance``): the
    EM models then keep the class prior fixed instead of re-estimating it, and the
    vote-counting models give it to items without votes. ``None`` = estimated.

    Gold labels (``gold`` or the votes of sources marked gold) are clamped: those
    items' posterior is one-hot and drives the source estimates.
    """

    _constraints: dict[str, list[Any]] = {}
    posterior_: np.ndarray
    confusion_: Any
    prior_: np.ndarray

    # ------------------------------------------------------------------ API
    def fit(self, votes: VoteArrays | Any, gold: IntArray | None = None) -> BaseLabelModel:
        """Learn the posterior and source parameters from ``votes``.

        Parameters
        ----------
        votes : VoteArrays or DataFrame
            Coded votes, or a long table with one row per vote: an item column
            (``item_id``, ``item`` or ``task``), a source column (``source`` or ``worker``),
            ``label`` and optionally ``weight`` — crowd-kit's ``(task, worker, label)``
            works as it is. Labels are coded by the same rule as everywhere
            (``1 == 1.0 == "1"``).
        gold : ndarray of shape (n_items,), int, optional
            Gold class codes, -1 where unknown; combined with gold-source votes.

        Returns
        -------
        self
        """
        check_params(self)
        votes = _as_votes(votes)
        g = _combined_gold(votes, gold)
        plain = votes.without_gold()
        self.classes_ = np.asarray(votes.classes)[: _n_true(votes)]
        self.item_ids_ = np.asarray(votes.item_ids)
        self.source_names_ = np.asarray(votes.source_names)
        self.n_sources_ = votes.n_sources
        self.n_observed_ = votes.n_classes
        self._class_prior = _prior_param(getattr(self, "class_prior", None), len(self.classes_))
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

    def predict_proba(self, votes: VoteArrays | Any | None = None) -> Float32Array:
        """Posterior over true classes.

        Parameters
        ----------
        votes : VoteArrays or DataFrame, optional
            New votes from the same sources and classes (e.g. a test split); default the
            fitted votes. New items are scored with the fitted source parameters. A
            DataFrame is coded with the fitted source and class lists (its items in sorted
            order, as :func:`~truelabel.sources.votes_from_table` sorts them).

        Returns
        -------
        posterior : ndarray of shape (n_items, n_classes), float32
            Columns follow ``classes_``.
        """
        self._check_fitted()
        if votes is None:
            return np.asarray(self.posterior_)
        if not isinstance(votes, VoteArrays):
            votes = self._code_new(votes)
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

    def predict(self, votes: VoteArrays | Any | None = None) -> np.ndarray:
        """Most likely class per item (ties: lowest class index), as class names.

        Returns
        -------
        labels : ndarray of shape (n_items,)
            Values of ``classes_`` (``labels_`` holds the integer codes).
        """
        codes = np.argmax(self.predict_proba(votes), axis=1)
        return np.asarray(self.classes_)[codes]

    def fit_predict(self, votes: VoteArrays | Any, gold: IntArray | None = None) -> Any:
        """``fit(votes, gold)`` then the most likely class of every fitted item, as names.

        Returns
        -------
        labels : ndarray of shape (n_items,), or Series
            For a DataFrame (as crowd-kit's ``fit_predict``): a Series of class names
            indexed by item id; for :class:`VoteArrays`: an array in ``votes.item_ids``
            order.
        """
        self.fit(votes, gold)
        names = np.asarray(self.classes_)[self.labels_]
        if isinstance(votes, VoteArrays):
            return names
        import pandas as pd

        return pd.Series(names, index=pd.Index(self.item_ids_, name="item_id"), name="label")

    def fit_predict_proba(self, votes: VoteArrays | Any, gold: IntArray | None = None) -> Any:
        """``fit(votes, gold)`` then the posterior of every fitted item.

        Returns
        -------
        posterior : ndarray of shape (n_items, n_classes), float32, or DataFrame
            For a DataFrame: one row per item id, one column per class (as crowd-kit's
            ``fit_predict_proba``); for :class:`VoteArrays`: the array.
        """
        self.fit(votes, gold)
        if isinstance(votes, VoteArrays):
            return np.asarray(self.posterior_)
        import pandas as pd

        return pd.DataFrame(
            np.asarray(self.posterior_),
            index=pd.Index(self.item_ids_, name="item_id"),
            columns=list(self.classes_),
        )

    def _code_new(self, frame: Any) -> VoteArrays:
        """Code a new votes DataFrame with the fitted source and class lists."""
        new = _as_votes(frame, classes=list(self.classes_))
        index = {str(name): j for j, name in enumerate(self.source_names_)}
        codes = np.array([index.get(str(name), -1) for name in new.source_names], dtype=np.int64)
        if (codes < 0).any():
            unknown = [str(x) for x in np.asarray(new.source_names)[codes < 0][:5]]
            raise InputError(
                f"the new votes come from sources the model was not fitted on: {unknown}; "
                "a label model can only score votes of its own sources."
            )
        from ..sources._votes import _replace

        return _replace(
            new,
            source=codes[new.source].astype(np.int32),
            n_sources=self.n_sources_,
            source_names=self.source_names_,
            is_gold_source=np.zeros(self.n_sources_, dtype=bool),
        )

    # ------------------------------------------------------------------ hooks
    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:  # pragma: no cover
        raise NotImplementedError

    def _log_scores(self, votes: VoteArrays) -> tuple[np.ndarray, np.ndarray]:
        """The fitted posterior as ``softmax(ll + lp)``, for tempering (``/ T``).

        Parameters
        ----------
        votes : VoteArrays
            The votes the model was fitted on (without gold sources).

        Returns
        -------
        ll : ndarray of shape (n_items, n_classes), float64
            Log-likelihood of each item's votes under each class.
        lp : ndarray of shape (n_classes,) or (n_items, n_classes), float64
            Log prior. This default has no likelihood of its own: ``ll`` is the log
            posterior and ``lp`` zero, so tempering raises the posterior to ``1 / T``.
        """
        ll = np.log(np.clip(np.asarray(self.posterior_, dtype=np.float64), 1e-300, None))
        return ll, np.zeros(ll.shape[1])

    def _predict_new(self, votes: VoteArrays) -> Float32Array:
        A = _vote_matrix(votes)
        ll = _log_lik(A, np.log(np.clip(self.confusion_.astype(np.float64), 1e-12, None)))
        ll += np.log(np.clip(self.prior_.astype(np.float64), 1e-12, None))
        post, _ = softmax_with_lse(ll)
        return post.astype(np.float32)

    def _check_fitted(self) -> None:
        if not hasattr(self, "posterior_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(votes) first."
            )


#: accepted column names of a long votes DataFrame (ours first, then crowd-kit's)
ITEM_COLUMNS = ("item_id", "item", "task")
SOURCE_COLUMNS = ("source", "worker")


def _as_votes(votes: Any, classes: list[Any] | None = None) -> VoteArrays:
    """A VoteArrays as it is, or a long DataFrame coded by ``votes_from_table``."""
    if isinstance(votes, VoteArrays):
        return check_votes(votes)
    import pandas as pd

    if not isinstance(votes, pd.DataFrame):
        return check_votes(votes)  # raises the "must be a VoteArrays" message
    from ..sources._votes import votes_from_table

    cols = list(votes.columns)
    item = next((c for c in ITEM_COLUMNS if c in cols), None)
    source = next((c for c in SOURCE_COLUMNS if c in cols), None)
    if item is None or source is None or "label" not in cols:
        raise InputError(
            "a votes DataFrame needs an item column (item_id, item or task), a source column "
            f"(source or worker) and a label column (label); got {cols[:20]!r}. Rename them, "
            "or code it with truelabel.sources.votes_from_table(df, item_column=..., "
            "source_column=..., label_column=...)."
        )
    return votes_from_table(
        votes,
        item_column=item,
        source_column=source,
        label_column="label",
        weight_column="weight" if "weight" in cols else None,
        classes=classes,
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
        AT = A.T  # CSC view of A's arrays: no copy, and CSC @ dense is fast
        ones = np.ones(A.shape[0])
        post = init if init is not None else self._init_posterior(A, votes, gold)
        gi = np.flatnonzero(gold >= 0)

        def m_step(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            # column sums of p by a BLAS product (beats sum(axis=0) here)
            return self._params_from_stats(_counts(A, p, s, n_obs, AT), ones @ p)

        def e_step(log_conf: np.ndarray, log_prior: np.ndarray) -> tuple[np.ndarray, float]:
            lp = log_prior[None, :] if item_log_prior is None else item_log_prior
            ll = _log_lik(A, log_conf) + lp
            p, lse = softmax_with_lse(ll)
            # marginal log-likelihood of the votes (gold items: of their gold class)
            if len(gi):
                lse[gi] = ll[gi, gold[gi]]
                p = _clamp(p, gold)
            return p, float(lse.sum())

        best, history, converged, n_iter = self._em_loop(
            m_step, e_step, post, extrapolate=item_log_prior is None
        )
        self._store_em(best, history, converged, n_iter, warn=warn)

    def _params_from_stats(
        self, counts: np.ndarray, post_sum: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """M-step from the sufficient statistics: ``(log_conf, log_prior)``.

        ``counts`` (S, K, L) are the posterior-weighted vote counts, ``post_sum`` (K,) the
        posterior's column sums; the prior is smoothed, or the fixed ``class_prior``. The one
        M-step of every engine (in memory here, summed over chunks in ``truelabel.scale``).
        """
        log_conf = self._m_step(np.asarray(counts))
        fixed = getattr(self, "_class_prior", None)
        if fixed is not None:  # class_prior given: not re-estimated
            return log_conf, np.log(fixed)
        prior = np.asarray(post_sum, dtype=np.float64) + float(self.smoothing)
        return log_conf, np.log(prior / prior.sum())

    def _em_loop(
        self, m_step: Any, e_step: Any, state: Any, *, extrapolate: bool = True
    ) -> tuple[Any, list[float], bool, int]:
        """EM from ``state`` (a posterior, or any statistics ``m_step`` reads), accelerated
        when ``acceleration="squarem"`` and the model allows it; returns ``(best iterate
        (log-lik, state, log_conf, log_prior), history, converged, n_iter)``. Shared by the
        in-memory fit and the chunked one (``DawidSkene(engine=...)``)."""
        accelerate = (
            getattr(self, "acceleration", "none") == "squarem"
            and self._extrapolates
            and extrapolate
        )
        with progress(
            f"EM ({type(self).__name__})", total=self.max_iter, unit="iterations"
        ) as tick:

            def e_step_counted(log_conf: np.ndarray, log_prior: np.ndarray) -> Any:
                out = e_step(log_conf, log_prior)
                tick(1, note=f"log-likelihood {out[1]:.6g}")
                return out

            if accelerate:
                return self._squarem(m_step, e_step_counted, state)
            return self._plain_em(m_step, e_step_counted, state)

    def _store_em(
        self,
        best: tuple[float, Any, np.ndarray, np.ndarray],
        history: list[float],
        converged: bool,
        n_iter: int,
        *,
        posterior: np.ndarray | None = None,
        warn: bool = True,
    ) -> None:
        """Set the fitted attributes from the best iterate (its posterior unless given)."""
        total, post, log_conf, log_prior = best
        self.posterior_ = np.asarray(post if posterior is None else posterior).astype(np.float32)
        self.confusion_ = np.exp(log_conf).astype(np.float32)
        self.prior_ = np.exp(np.ravel(log_prior)).astype(np.float32)
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
                stacklevel=5,
            )
        logger.info("%s: %d iterations, log-likelihood %.4f", type(self).__name__, n_iter, total)

    def _log_scores(self, votes: VoteArrays) -> tuple[np.ndarray, np.ndarray]:
        """``ll`` from the fitted confusions, ``lp`` the fitted class prior (see base)."""
        conf = np.clip(np.asarray(self.confusion_, dtype=np.float64), 1e-300, None)
        ll = _log_lik(_vote_matrix(votes), np.log(conf))
        return ll, np.log(np.clip(np.asarray(self.prior_, dtype=np.float64), 1e-300, None))

    #: whether the parameters may be extrapolated (SQUAREM); False for models with
    #: state outside ``(log_conf, log_prior)`` or a constrained confusion shape
    _extrapolates = False

    def _converged(self, new: float, old: float) -> bool:
        return abs(new - old) <= self.tol * max(1.0, abs(new))

    def _plain_em(
        self, m_step: Any, e_step: Any, post: np.ndarray
    ) -> tuple[Any, list[float], bool, int]:
        """Classic EM: M-step, E-step, until one step changes the log-likelihood < tol."""
        best: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None
        prev = -np.inf
        history: list[float] = []
        converged = False
        n_iter = 0
        for it in range(1, self.max_iter + 1):
            n_iter = it
            log_conf, log_prior = m_step(post)
            post, total = e_step(log_conf, log_prior)
            history.append(total)
            if best is None or _not_worse(total, best[0]):
                best = (total, post, log_conf, log_prior)
            if self._converged(total, prev):
                converged = True
                break
            prev = total
        assert best is not None
        return best, history, converged, n_iter

    def _squarem(
        self, m_step: Any, e_step: Any, post: np.ndarray
    ) -> tuple[Any, list[float], bool, int]:
        """EM accelerated by SQUAREM (Varadhan & Roland, 2008), monotone version.

        One cycle takes two EM steps from ``theta0`` (``theta1``, ``theta2``),
        extrapolates ``theta' = theta0 - 2 a r + a^2 v`` with ``r = theta1 - theta0``,
        ``v = theta2 - 2 theta1 + theta0`` and step ``a = -|r| / |v|`` (scheme S3) in
        the log-parameters (renormalised, so every iterate is a valid model), and keeps
        ``theta'`` only if its log-likelihood is at least that of ``theta1``; otherwise
        it falls back to the plain EM iterate ``theta2``. The log-likelihood therefore
        never decreases, the fixed points are those of EM, and the convergence test is
        EM's own: one plain EM step (``theta0 -> theta1``) changes the log-likelihood by
        less than ``tol`` (relative). ``n_iter_`` counts E-steps (likelihood evaluations),
        so it is comparable with plain EM's iteration count.
        """
        history: list[float] = []
        th0 = m_step(post)
        p0, ll0 = e_step(*th0)
        n_e = 1
        history.append(ll0)
        best = (ll0, p0, th0[0], th0[1])
        converged = False
        while n_e < self.max_iter:
            th1 = m_step(p0)
            p1, ll1 = e_step(*th1)
            n_e += 1
            history.append(ll1)
            if _not_worse(ll1, best[0]):
                best = (ll1, p1, th1[0], th1[1])
            if self._converged(ll1, ll0):
                converged = True
                break
            if n_e >= self.max_iter:
                break
            th2 = m_step(p1)
            r = [a1 - a0 for a0, a1 in zip(th0, th1, strict=True)]
            v = [a2 - 2 * a1 + a0 for a0, a1, a2 in zip(th0, th1, th2, strict=True)]
            nr = np.sqrt(sum(float(np.vdot(x, x)) for x in r))
            nv = np.sqrt(sum(float(np.vdot(x, x)) for x in v))
            step = -nr / nv if nv > 0 else -1.0
            step = min(step, -1.0)
            thp = (
                _log_normalize(th0[0] - 2 * step * r[0] + step * step * v[0]),
                _log_normalize(th0[1] - 2 * step * r[1] + step * step * v[1]),
            )
            pp, llp = e_step(*thp)
            n_e += 1
            if np.isfinite(llp) and llp >= ll1:
                th0, p0, ll0 = thp, pp, llp
            else:  # extrapolation overshot: take the plain EM iterate theta2
                p2, ll2 = e_step(*th2)
                n_e += 1
                th0, p0, ll0 = th2, p2, ll2
            history.append(ll0)
            if _not_worse(ll0, best[0]):
                best = (ll0, p0, th0[0], th0[1])
        return best, history, converged, n_e


def _log_normalize(x: np.ndarray) -> np.ndarray:
    """Log-probabilities renormalised over the last axis (and kept finite)."""
    x = np.maximum(x, -700.0)
    m = x.max(axis=-1, keepdims=True)
    return x - (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))
