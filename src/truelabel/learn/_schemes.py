"""Training schemes around an end model: prune-and-retrain and distillation."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from .._errors import InputError, NotFittedError
from .._types import Float32Array, FloatArray, IntArray
from .._validation import (
    Interval,
    Options,
    check_labels,
    check_params,
    check_pred_probs,
    check_random_state,
)

__all__ = ["DistilledClassifier", "PruneAndRetrain", "distillation_targets"]

logger = logging.getLogger(__name__)


def _default_estimator() -> BaseEstimator:
    from ._models import RobustLogisticRegression

    return RobustLogisticRegression()


def _encode(y: Any) -> tuple[np.ndarray, IntArray]:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InputError(f"y must be labels of shape (N,); got shape {arr.shape}.")
    classes, codes = np.unique(arr, return_inverse=True)
    if len(classes) < 2:
        raise InputError("y holds a single class; a classifier needs at least 2.")
    return classes, codes.astype(np.int64)


class PruneAndRetrain(ClassifierMixin, BaseEstimator):
    """Cross-fit, find label issues, drop or relabel them, retrain (CleanLearning's idea).

    1. Out-of-sample probabilities by K-fold cross-fitting of ``estimator``
       (:func:`truelabel.crossfit.cross_val_predict_proba`).
    2. Confident learning flags the items whose label is probably wrong
       (:func:`truelabel.audit.find_label_issues`).
    3. ``action="drop"`` removes them; ``"relabel"`` replaces their label with the
       cross-fitted argmax; ``"soft"`` (a DivideMix-style small-loss split, Li et al.
       2020, without the semi-supervised part) keeps every item with the soft target
       ``w_i onehot(y_i) + (1 - w_i) sharpen(p_i)``, where ``w_i`` is the posterior of
       the low-loss component of a 2-component Gaussian mixture fitted to the
       cross-fitted per-item losses ``-log p_i[y_i]`` and ``sharpen`` raises ``p_i`` to
       the power 2 and renormalises.
    4. A fresh clone of ``estimator`` is fitted on the result (``"soft"`` needs an
       estimator that accepts soft targets, such as :class:`RobustMLPClassifier`).

    Parameters
    ----------
    estimator : classifier, optional
        Any scikit-learn classifier; default :class:`RobustLogisticRegression`.
    action : {"drop", "relabel", "soft"}, default "drop"
    n_folds : int, default 5
    filter_by : str, default "prune_by_noise_rate"
        Passed to ``find_label_issues``.
    random_state : int, Generator or None, default 0

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    pred_probs_ : ndarray of shape (N, K), float32
        The cross-fitted probabilities.
    label_issues_ : ndarray of shape (N,), bool
        Flagged items (``"soft"``: items whose clean-component weight is below 0.5).
    clean_weight_ : ndarray of shape (N,), float
        ``"soft"`` only: each item's weight ``w_i`` on its given label.
    estimator_ : the final fitted classifier
    """

    _constraints = {
        "action": [Options(("drop", "relabel", "soft"))],
        "n_folds": [Interval(int, 2, None)],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any = None,
        *,
        action: str = "drop",
        n_folds: int = 5,
        filter_by: str = "prune_by_noise_rate",
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.estimator = estimator
        self.action = action
        self.n_folds = n_folds
        self.filter_by = filter_by
        self.random_state = random_state

    def fit(self, X: Any, y: Any, pred_probs: Any = None) -> PruneAndRetrain:
        """Audit the labels ``y`` of ``X`` and retrain without the flagged items.

        Parameters
        ----------
        X : ndarray of shape (N, D) or CSR matrix
        y : ndarray of shape (N,), class labels
        pred_probs : ndarray of shape (N, K), optional
            Out-of-sample probabilities you already have (e.g. from the audit), columns
            in the order of ``np.unique(y)``; skips the cross-fitting step.

        Returns
        -------
        self
        """
        from ..audit import find_label_issues
        from ..crossfit import cross_val_predict_proba

        check_params(self)
        classes, codes = _encode(y)
        if X.shape[0] != len(codes):
            raise InputError(f"X has {X.shape[0]} rows but y has {len(codes)} entries.")
        rng = check_random_state(self.random_state)
        seed = int(rng.integers(0, 2**31 - 1))
        base = self.estimator if self.estimator is not None else _default_estimator()
        k = len(classes)
        # classes with fewer items than folds cannot be cross-fitted: keep their items
        counts = np.bincount(codes, minlength=k)
        fold_ok = counts[codes] >= self.n_folds
        if fold_ok.sum() < len(codes):
            logger.info(
                "%d items of classes rarer than n_folds are kept unaudited", int((~fold_ok).sum())
            )
        probs = np.zeros((len(codes), k), dtype=np.float32)
        probs[np.arange(len(codes)), codes] = 1.0
        flags = np.zeros(len(codes), dtype=bool)
        if pred_probs is not None:
            probs = np.asarray(
                check_pred_probs(pred_probs, n_rows=len(codes), n_classes=k, name="pred_probs"),
                dtype=np.float32,
            )
            flags = np.asarray(
                find_label_issues(codes, probs, filter_by=self.filter_by), dtype=bool
            )
        elif len(np.unique(codes[fold_ok])) >= 2:
            idx = np.flatnonzero(fold_ok)
            sub = cross_val_predict_proba(
                X[idx],
                codes[idx],
                n_classes=k,
                n_folds=self.n_folds,
                estimator=clone(base),
                random_state=seed,
                class_names=list(classes),
            )
            probs[idx] = sub
            flags[idx] = np.asarray(
                find_label_issues(codes[idx], sub, filter_by=self.filter_by), dtype=bool
            )
        self.__dict__.pop("clean_weight_", None)
        if self.action == "soft":
            w = _clean_weight(probs, codes, seed)
            sharp = probs.astype(np.float64) ** 2
            sharp /= sharp.sum(axis=1, keepdims=True)
            onehot = np.zeros_like(sharp)
            onehot[np.arange(len(codes)), codes] = 1.0
            soft = (w[:, None] * onehot + (1.0 - w[:, None]) * sharp).astype(np.float32)
            soft /= soft.sum(axis=1, keepdims=True)
            est = clone(base)
            est.fit(X, soft)
            self.classes_ = classes
            self.pred_probs_ = probs
            self.label_issues_ = w < 0.5
            self.clean_weight_ = w
            self.estimator_ = est
            self.n_features_in_ = X.shape[1]
            logger.info(
                "prune-and-retrain (soft): %d of %d items weighted towards the model",
                int((w < 0.5).sum()),
                len(codes),
            )
            return self
        new = codes.copy()
        if self.action == "relabel":
            new[flags] = probs[flags].argmax(axis=1)
            keep = np.ones(len(codes), dtype=bool)
        else:
            keep = ~flags
        if len(np.unique(new[keep])) < 2:
            raise InputError(
                "after pruning fewer than 2 classes are left; use action='relabel' or check "
                "that the labels are not mostly wrong."
            )
        logger.info(
            "prune-and-retrain: %d of %d items flagged (%s)",
            int(flags.sum()),
            len(codes),
            self.action,
        )
        est = clone(base)
        est.fit(X[keep], new[keep])
        self.classes_ = classes
        self.pred_probs_ = probs
        self.label_issues_ = flags
        self.estimator_ = est
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: Any) -> Float32Array:
        """Probabilities of the retrained model, shape (N, K), columns follow ``classes_``."""
        if not hasattr(self, "estimator_"):
            raise NotFittedError("This PruneAndRetrain is not fitted yet; call fit(X, y) first.")
        p = np.asarray(self.estimator_.predict_proba(X), dtype=np.float32)
        out = np.zeros((p.shape[0], len(self.classes_)), dtype=np.float32)
        out[:, np.asarray(self.estimator_.classes_, dtype=np.int64)] = p
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class, shape (N,)."""
        return np.asarray(self.classes_)[self.predict_proba(X).argmax(axis=1)]


def _clean_weight(probs: np.ndarray, codes: np.ndarray, seed: int) -> np.ndarray:
    """Posterior of the low-loss component of a 2-Gaussian mixture on per-item CE, (N,)."""
    from sklearn.mixture import GaussianMixture

    loss = -np.log(np.clip(probs[np.arange(len(codes)), codes].astype(np.float64), 1e-8, 1.0))
    lo, hi = np.percentile(loss, [1, 99])
    z = ((np.clip(loss, lo, hi) - lo) / max(hi - lo, 1e-12))[:, None]
    if np.ptp(z) < 1e-9:
        return np.ones(len(codes))
    gm = GaussianMixture(2, max_iter=50, tol=1e-3, reg_covar=5e-4, random_state=seed % (2**31))
    gm.fit(z)
    post = gm.predict_proba(z)
    return np.asarray(post[:, int(np.argmin(gm.means_.ravel()))], dtype=np.float64)


def distillation_targets(
    labels: IntArray,
    teacher_probs: FloatArray,
    *,
    alpha: float = 0.5,
    temperature: float = 1.0,
) -> Float32Array:
    """Mix the given labels with a teacher's softened probabilities.

    ``targets = alpha * onehot(labels) + (1 - alpha) * softmax(log(teacher) / temperature)``

    Parameters
    ----------
    labels : ndarray of shape (N,), int codes 0..K-1
    teacher_probs : ndarray of shape (N, K)
        The teacher's (ideally out-of-sample) probabilities; rows sum to 1.
    alpha : float in [0, 1], default 0.5
        Weight of the given labels (0 = pure distillation).
    temperature : float > 0, default 1.0
        > 1 softens the teacher.

    Returns
    -------
    targets : ndarray of shape (N, K), float32; rows sum to 1.
    """
    p = check_pred_probs(teacher_probs, name="teacher_probs")
    y = check_labels(labels, n_classes=p.shape[1], n_rows=p.shape[0])
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"alpha must be in [0, 1]; got {alpha}.")
    if not temperature > 0:
        raise InputError(f"temperature must be > 0; got {temperature}.")
    z = np.log(np.clip(p.astype(np.float64), 1e-12, 1.0)) / temperature
    z -= z.max(axis=1, keepdims=True)
    soft = np.exp(z)
    soft /= soft.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(soft)
    onehot[np.arange(len(y)), y] = 1.0
    return (alpha * onehot + (1.0 - alpha) * soft).astype(np.float32)


class DistilledClassifier(ClassifierMixin, BaseEstimator):
    """A student trained on a teacher's softened probabilities.

    Two modes:

    - **self-distillation** (``fit(X, y)``): the teacher is the student's own kind,
      cross-fitted (K folds, so it never predicts an item it memorised); its
      out-of-sample probabilities are mixed with the given labels by
      :func:`distillation_targets` and the student learns from the soft targets.
    - **an external teacher** (``fit(X, y, teacher_probs=...)``): probabilities from a
      stronger model, an ensemble or an LLM, given as an (N, K) array (NaN rows where
      the teacher has no answer) or as a callable ``ask(idx)`` that is asked only
      about the items chosen. With a ``budget`` the items are chosen actively in
      ``n_rounds`` rounds by :func:`truelabel.learn._distill.select_queries`; ``y``
      (codes, -1 = no gold) adds gold labels where known.

    Parameters
    ----------
    student : classifier accepting soft targets, optional
        Default :class:`RobustLogisticRegression`.
    teacher : classifier, optional
        Default: a clone of ``student``.
    alpha : float, default 0.3
        Weight of a given label against the teacher on the same item.
    temperature : float, default 2.0
    n_folds : int, default 5
    budget : int or None, default None
        External teacher: how many items to ask (None: every item it can answer).
    select : {"random", "uncertainty", "diversity", "hybrid"}, default "random"
        External teacher: how the budgeted items are chosen. Random was the best on
        average over four llms_for_css tasks, two teachers and three budgets
        (BENCHMARKS.md); uncertainty came close, diversity and hybrid were worse.
    n_rounds : int, default 4
        External teacher: selection rounds (the student is refitted between rounds).
    random_state : int, Generator or None, default 0

    Attributes
    ----------
    classes_, teacher_probs_ (N, K; NaN where not asked), student_
    targets_ : ndarray of shape (N, K)
        External teacher: the soft targets (NaN rows: no target).
    asked_, answered_ : ndarray of shape (N,), bool
        External teacher: items asked, and those the teacher answered.
    """

    _constraints = {
        "alpha": [Interval(float, 0, 1)],
        "temperature": [Interval(float, 0, None, closed="neither")],
        "n_folds": [Interval(int, 2, None)],
        "budget": [None, Interval(int, 1, None)],
        "select": [Options(("hybrid", "uncertainty", "diversity", "random"))],
        "n_rounds": [Interval(int, 1, None)],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        student: Any = None,
        teacher: Any = None,
        *,
        alpha: float = 0.3,
        temperature: float = 2.0,
        n_folds: int = 5,
        budget: int | None = None,
        select: str = "random",
        n_rounds: int = 4,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.student = student
        self.teacher = teacher
        self.alpha = alpha
        self.temperature = temperature
        self.n_folds = n_folds
        self.budget = budget
        self.select = select
        self.n_rounds = n_rounds
        self.random_state = random_state

    def fit(
        self, X: Any, y: Any = None, teacher_probs: Any = None, n_classes: int | None = None
    ) -> DistilledClassifier:
        """Build soft targets from a teacher and fit the student.

        Parameters
        ----------
        X : ndarray of shape (N, D) or CSR matrix
        y : ndarray of shape (N,)
            Self-distillation: class labels. External teacher: int codes 0..K-1 of the
            gold labels, -1 where none (or None: no gold).
        teacher_probs : ndarray of shape (N, K) or callable, optional
            An external teacher (see the class docstring); None = self-distillation.
        n_classes : int, optional
            K for a callable teacher (default: from the first answers).

        Returns
        -------
        self
        """
        from ..crossfit import cross_val_predict_proba

        check_params(self)
        if teacher_probs is not None:
            return self._fit_teacher(X, y, teacher_probs, n_classes)
        if y is None:
            raise InputError("self-distillation needs labels y (or pass teacher_probs).")
        classes, codes = _encode(y)
        student = self.student if self.student is not None else _default_estimator()
        teacher = self.teacher if self.teacher is not None else student
        rng = check_random_state(self.random_state)
        seed = int(rng.integers(0, 2**31 - 1))
        probs = cross_val_predict_proba(
            X,
            codes,
            n_classes=len(classes),
            n_folds=self.n_folds,
            estimator=clone(teacher),
            random_state=seed,
        )
        targets = distillation_targets(codes, probs, alpha=self.alpha, temperature=self.temperature)
        est = clone(student)
        est.fit(X, targets)
        self.classes_ = classes
        self.teacher_probs_ = probs
        self.student_ = est
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_teacher(
        self, X: Any, y: Any, teacher: Any, n_classes: int | None
    ) -> DistilledClassifier:
        """External teacher: choose what to ask (budget), build targets, fit the student."""
        from ._distill import select_queries

        n = X.shape[0]
        gold = np.full(n, -1, dtype=np.int64) if y is None else np.asarray(y, dtype=np.int64)
        if gold.shape != (n,):
            raise InputError(f"y must have shape ({n},) with -1 where there is no gold label.")
        ask = teacher if callable(teacher) else None
        table = None if ask is not None else np.asarray(teacher, dtype=np.float64)
        if table is not None:
            if table.ndim != 2 or table.shape[0] != n or table.shape[1] < 2:
                raise InputError(f"teacher_probs must have shape ({n}, K); got {table.shape}.")
            n_classes = table.shape[1]
        if n_classes is None:
            raise InputError("pass n_classes with a callable teacher.")
        K = int(n_classes)
        if gold.max(initial=-1) >= K:
            raise InputError(f"y holds code {int(gold.max())} but the teacher has {K} classes.")
        can_answer = np.isfinite(table).all(axis=1) if table is not None else np.ones(n, dtype=bool)
        rng = check_random_state(self.random_state)
        student = self.student if self.student is not None else _default_estimator()
        probs = np.full((n, K), np.nan)
        asked = np.zeros(n, dtype=bool)
        budget = int(can_answer.sum()) if self.budget is None else min(self.budget, n)
        rounds = 1 if self.budget is None else self.n_rounds
        est: Any = None
        for r in range(rounds):
            want = budget - int(asked.sum())
            if want <= 0:
                break
            per = int(np.ceil(want / (rounds - r)))
            pick: np.ndarray
            if self.budget is None:
                pick = np.flatnonzero(can_answer & ~asked)
            else:
                current = None if est is None else self._expand(est, X, K)
                pick = select_queries(
                    X,
                    current,
                    asked | ~can_answer,
                    per,
                    strategy=self.select,
                    covered=gold >= 0,
                    random_state=int(rng.integers(0, 2**31 - 1)),
                )
            if pick.size == 0:
                break
            asked[pick] = True
            if table is not None:
                answer = table[pick]
            else:
                assert ask is not None
                answer = np.asarray(ask(pick), dtype=np.float64)
            if answer.shape != (len(pick), K):
                raise InputError(
                    f"the teacher answered shape {answer.shape}; expected ({len(pick)}, {K})."
                )
            probs[pick] = answer
            targets = self._targets(probs, gold, K)
            rows = np.flatnonzero(np.isfinite(targets).all(axis=1))
            if len(np.unique(targets[rows].argmax(axis=1))) >= 2:
                est = clone(student).fit(X[rows], targets[rows])
        targets = self._targets(probs, gold, K)
        rows = np.flatnonzero(np.isfinite(targets).all(axis=1))
        if rows.size == 0 or len(np.unique(targets[rows].argmax(axis=1))) < 2:
            raise InputError(
                "the teacher's answers (and gold labels) cover fewer than 2 classes; raise "
                "the budget or check the teacher."
            )
        est = clone(student).fit(X[rows], targets[rows])
        self.classes_ = np.arange(K)
        self.teacher_probs_ = probs.astype(np.float32)
        self.targets_ = targets.astype(np.float32)
        self.asked_ = asked
        self.answered_ = np.isfinite(probs).all(axis=1)
        self.student_ = est
        self.n_features_in_ = X.shape[1]
        return self

    def _targets(self, probs: np.ndarray, gold: np.ndarray, K: int) -> np.ndarray:
        """Softened teacher where answered, mixed with gold (weight alpha) where known."""
        out = np.full(probs.shape, np.nan)
        has_t = np.isfinite(probs).all(axis=1)
        has_g = gold >= 0
        if has_t.any():
            p = np.clip(probs[has_t], 1e-12, None)
            out[has_t] = distillation_targets(
                np.zeros(int(has_t.sum()), dtype=np.int64),
                p / p.sum(axis=1, keepdims=True),
                alpha=0.0,
                temperature=self.temperature,
            )
        onehot = np.eye(K)[np.maximum(gold, 0)]
        both = has_t & has_g
        out[both] = self.alpha * onehot[both] + (1 - self.alpha) * out[both]
        only_g = has_g & ~has_t
        out[only_g] = onehot[only_g]
        return out

    @staticmethod
    def _expand(est: Any, X: Any, K: int) -> np.ndarray:
        """The student's probabilities over all K classes (classes it never saw get 0)."""
        p = np.asarray(est.predict_proba(X), dtype=np.float64)
        cls = np.asarray(est.classes_)
        if p.shape[1] == K:
            return p
        full = np.zeros((p.shape[0], K))
        full[:, cls] = p
        return full

    def predict_proba(self, X: Any) -> Float32Array:
        """Student probabilities, shape (N, K)."""
        if not hasattr(self, "student_"):
            raise NotFittedError("This DistilledClassifier is not fitted yet; call fit(X, y).")
        return np.asarray(self.student_.predict_proba(X), dtype=np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class, shape (N,)."""
        return np.asarray(self.classes_)[self.predict_proba(X).argmax(axis=1)]
