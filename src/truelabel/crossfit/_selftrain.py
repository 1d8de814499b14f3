"""Self-training on cross-fitted pseudo-labels (shared by zero-shot labeling and
semi-supervised learning).

Each round picks confident pseudo-labels (a balanced per-class quota, or per-class
self-adaptive thresholds), fits a multinomial logistic regression on them (plus any
rows with known labels), and relabels every row out of fold: no row's new probability
comes from a model that was trained on its own pseudo-label.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._errors import InputError
from .._types import Float32Array, IntArray, RandomState

__all__ = ["dynamic_thresholds", "self_train_proba"]

_MAX_SELF_TRAIN = 50_000  # at most this many pseudo-labeled items train the self-training model


def _dense(X: Any) -> np.ndarray:
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float32)


def _margin(proba: np.ndarray) -> np.ndarray:
    """Top-1 minus top-2 probability per row (the confidence used to rank items)."""
    if proba.shape[1] < 2:
        return proba[:, 0].copy()
    top = np.partition(proba, -2, axis=1)
    return top[:, -1] - top[:, -2]


def _balanced_confident(
    pred: IntArray, conf: np.ndarray, n_classes: int, fraction: float
) -> np.ndarray:
    """Mask of the most confident items per predicted class, at most ``fraction * N / K`` each.

    The quota is the same for every class (balanced): a class that attracts many items
    does not dominate the training set of the self-trained model. It is also capped at
    ``_MAX_SELF_TRAIN / K`` so that a very large corpus keeps the fits affordable.
    """
    n = len(pred)
    counts = np.bincount(pred, minlength=n_classes)
    order = np.lexsort((-conf, pred))  # by class, then by decreasing confidence
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, counts)
    per_class = min(np.ceil(fraction * n / n_classes), np.ceil(_MAX_SELF_TRAIN / n_classes))
    quota = np.minimum(counts, max(int(per_class), 1))
    return rank < quota[pred]


def dynamic_thresholds(proba: np.ndarray) -> np.ndarray:
    """Per-class self-adaptive confidence thresholds (FreeMatch, Wang et al. 2023).

    ``T_k = tau * p_k / max_j p_j`` where ``tau`` is the mean top probability over the
    rows and ``p_k`` the mean probability of class k: a class the model is still unsure
    of (low mean probability) gets a lower bar, so every class keeps pseudo-labels, and
    the bars rise as the model grows confident.

    Parameters
    ----------
    proba : ndarray of shape (N, K)

    Returns
    -------
    thresholds : ndarray of shape (K,), in [0, 1]
    """
    tau = float(proba.max(axis=1).mean())
    local = proba.mean(axis=0)
    return np.asarray(tau * local / max(float(local.max()), 1e-12), dtype=np.float64)


def _select_quota(proba: np.ndarray, pred: IntArray, n_classes: int, fraction: float) -> np.ndarray:
    return _balanced_confident(pred, _margin(proba), n_classes, fraction)


def _select_dynamic(
    proba: np.ndarray, pred: IntArray, n_classes: int, fraction: float
) -> np.ndarray:
    if len(pred) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(proba.max(axis=1) >= dynamic_thresholds(proba)[pred])


_SELECTORS = {"quota": _select_quota, "dynamic": _select_dynamic}


def _fill_missing(p_model: np.ndarray, classes: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Expand a model's (N, K') probabilities to all K classes.

    Classes the model never saw keep their probability under ``prior`` (the zero-shot
    posterior); the model's probabilities share the rest of each row.
    """
    n, K = prior.shape
    out = np.empty((n, K), dtype=np.float32)
    absent = np.setdiff1d(np.arange(K), classes)
    keep = 1.0 - prior[:, absent].sum(axis=1, keepdims=True)
    out[:, absent] = prior[:, absent]
    out[:, classes] = p_model * keep
    return out


def self_train_proba(
    X: Any,
    proba: np.ndarray,
    *,
    fraction: float = 0.8,
    n_rounds: int = 1,
    n_folds: int = 5,
    C: float = 1.0,
    random_state: RandomState = 0,
    labeled: Any = None,
    select: str = "quota",
    weighted: bool = False,
) -> tuple[Float32Array, list[Any]]:
    """Self-training: a cross-fitted logistic regression on the confident pseudo-labels.

    Each round takes the current labels (argmax of ``proba``), keeps the most confident
    items of every class (margin top-1 minus top-2; the same quota ``fraction * N / K``
    for each class, at most 50,000 items in all), and fits a multinomial logistic
    regression on them. Cross-fitting: the items are split into ``n_folds`` folds and each fold is relabeled by a model fitted
    on the confident items of the *other* folds, so no item's new probability comes from a
    model that was trained on its own pseudo-label. The out-of-fold probabilities replace
    ``proba``. A class with no confident item keeps its zero-shot probability.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (N, D)
        Item embeddings (row-normalised by the caller).
    proba : ndarray of shape (N, K)
        The current posterior (e.g. refined zero-shot probabilities).
    fraction : float in (0, 1]
        Per-class quota as a share of ``N / K`` (balanced selection).
    n_rounds : int >= 1
        Relabeling rounds.
    n_folds : int >= 2
        Cross-fitting folds.
    C : float > 0
        Inverse L2 regularisation of the logistic regression (``SoftmaxRegression``).
    random_state : int, Generator or None
        Fold assignment.
    labeled : ndarray of shape (N,), bool, optional
        Rows with a known label (the argmax of their ``proba`` row): always in the
        training set with that label and weight 1 (semi-supervised learning). Their
        returned probabilities are out-of-fold predictions like every other row's, so
        they measure the pseudo-labeled model on held-out known labels. Default: none.
    select : {"quota", "dynamic"}
        How the confident pseudo-labels are chosen among the other rows: ``quota``, the
        balanced per-class quota above (zero-shot labeling); ``dynamic``, per-class
        self-adaptive thresholds (:func:`dynamic_thresholds`, FreeMatch's rule).
    weighted : bool
        Weight each pseudo-labeled row by its confidence (top probability) in the fit.

    Returns
    -------
    proba : ndarray of shape (N, K), float32
        Out-of-fold probabilities of the last round.
    models : list of SoftmaxRegression
        The fold models of the last round (average their probabilities for new items).
    """
    from .._validation import check_random_state
    from ._linear import SoftmaxRegression

    if select not in _SELECTORS:
        raise InputError(f"self_train_proba: select must be one of {sorted(_SELECTORS)}.")
    if not 0 < fraction <= 1 or n_rounds < 1 or n_folds < 2 or C <= 0:
        raise InputError(
            "self_train_proba: need 0 < fraction <= 1, n_rounds >= 1, n_folds >= 2 and C > 0; "
            f"got fraction={fraction!r}, n_rounds={n_rounds!r}, n_folds={n_folds!r}, C={C!r}."
        )
    P = np.asarray(proba, dtype=np.float32)
    if P.ndim == 2 and not np.isfinite(P).all():
        raise InputError("self_train_proba: proba contains NaN or infinite values.")
    if P.ndim != 2 or P.shape[0] != X.shape[0]:
        raise InputError(
            f"self_train_proba: proba has shape {P.shape}; expected ({X.shape[0]}, K), one row "
            "per item of X."
        )
    n, K = P.shape
    n_folds = int(min(n_folds, n))
    if n_folds < 2:
        raise InputError(f"self_train_proba needs at least 2 items; got {n}.")
    rng = check_random_state(random_state)
    Xd = X.tocsr() if sp.issparse(X) else _dense(X)  # sparse (tfidf) stays sparse
    lab = np.zeros(n, dtype=bool) if labeled is None else np.asarray(labeled, dtype=bool)
    if lab.shape != (n,):
        raise InputError(f"self_train_proba: labeled has shape {lab.shape}; expected ({n},).")
    given = P[lab].argmax(axis=1)
    models: list[Any] = []
    for _ in range(n_rounds):
        pred = P.argmax(axis=1)
        pred[lab] = given
        mask = np.zeros(n, dtype=bool)
        mask[~lab] = _SELECTORS[select](P[~lab], pred[~lab], K, fraction)
        mask |= lab
        weight = np.where(lab, 1.0, P.max(axis=1)) if weighted else np.ones(n)
        folds = rng.permutation(n) % n_folds
        new = np.empty_like(P)
        models = []
        for f in range(n_folds):  # loop over folds; each fit is vectorised
            test = folds == f
            train = mask & ~test
            classes = np.unique(pred[train])
            if len(classes) < 2:  # nothing to learn from: keep the current posterior
                new[test] = P[test]
                continue
            model = SoftmaxRegression(C=C).fit(
                Xd[train], pred[train], sample_weight=weight[train] if weighted else None
            )
            models.append(model)
            new[test] = _fill_missing(model.predict_proba(Xd[test]), model.classes_, P[test])
        P = new
    return P, models


def _kappa(a: IntArray, b: IntArray, n_classes: int) -> float:
    """Cohen's kappa between two labelings of the same items."""
    n = len(a)
    cm = np.bincount(a * n_classes + b, minlength=n_classes * n_classes).reshape(n_classes, -1)
    po = np.trace(cm) / n
    pe = float((cm.sum(axis=0) * cm.sum(axis=1)).sum()) / n**2
    return 1.0 if pe >= 1 else float((po - pe) / (1 - pe))
