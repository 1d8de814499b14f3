"""``train --task multilabel`` and ``train --task regression``: linear models on the
featurizers, noise-robust, with conformal sets / intervals, saved as the same model
directory as a classifier (:class:`~truelabel.learn._artifact.TrainedModel`; ``model.json``
carries ``task``).

Multi-label: one-vs-rest logistic regression (:class:`~truelabel.crossfit.SigmoidRegression`),
per-tag decision thresholds (best F1 on cross-fitted probabilities), and conformal sets
that hold *every* true tag of an item with probability >= 1 - alpha
(:class:`~truelabel.calibrate.MultiLabelConformal` on threshold-normalised probabilities).

Regression: Huber loss (:class:`~truelabel.crossfit.HuberRegression`, the penalty chosen by
the ridge cross-fit), optionally without the items whose cross-fitted residual the audit's
heteroscedastic residual model flags, and split-conformal intervals normalised by that
residual model (``prediction ± q * scale(x)``).

In both, the calibration scores are the cross-fitted (5-fold) predictions of the training
rows and the saved model is refitted on all rows (cross-conformal, as the classifier).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._types import BoolArray, Float32Array
from ._artifact import TrainedModel, _data_hash, _versions, fit_features
from ._models import forward_numpy

__all__ = [
    "MULTILABEL_FILTERS",
    "REGRESSION_FILTERS",
    "TableTaskModel",
    "best_f1_thresholds",
    "normalize_by_threshold",
    "predict_table_task",
    "train_multilabel",
    "train_regression",
]

logger = logging.getLogger(__name__)

#: ``none``: train on the tags as given; ``flagged``: leave the (item, tag) cells the
#: multi-label audit flags out of that tag's loss.
MULTILABEL_FILTERS = ("none", "flagged")
#: ``none``: every item; ``flagged``: leave out the items the regression audit flags.
REGRESSION_FILTERS = ("none", "flagged")
REGRESSION_LOSSES = ("huber", "squared")
#: Defaults, chosen in BENCHMARKS.md ("Learning multi-label tags and numbers").
DEFAULT_MULTILABEL_FILTER = "none"
DEFAULT_REGRESSION_FILTER = "none"
#: ``raw``: score ``1 - p``; ``normalized``: ``1 - sigmoid(logit p - logit threshold)``.
DEFAULT_MULTILABEL_SCORE = "raw"
DEFAULT_REGRESSION_LOSS = "huber"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1.0 - 1e-7)
    return np.log(q) - np.log1p(-q)


def best_f1_thresholds(Y: Any, P: Any) -> np.ndarray:
    """Per-tag probability threshold with the best F1 against ``Y``.

    Parameters
    ----------
    Y : ndarray of shape (N, T), 0/1
    P : ndarray of shape (N, T)
        Out-of-sample per-tag probabilities.

    Returns
    -------
    ndarray of shape (T,), in the dtype of ``P``
        A tag applies when ``p >= threshold``; 0.5 for a tag without positives.
    """
    Yb = np.asarray(Y, dtype=bool)
    Pa = np.asarray(P)
    order = np.argsort(-Pa, axis=0, kind="stable")
    ys = np.take_along_axis(Yb, order, axis=0)
    ps = np.take_along_axis(Pa, order, axis=0)
    tp = np.cumsum(ys, axis=0)
    k = np.arange(1, len(Pa) + 1)[:, None]
    pos = Yb.sum(axis=0)[None, :]
    f1 = 2.0 * tp / (k + pos)
    # only cut where the next probability differs (ties go together)
    last_of_tie = np.r_[ps[1:] != ps[:-1], np.ones((1, Pa.shape[1]), dtype=bool)]
    f1 = np.where(last_of_tie, f1, -1.0)
    best = f1.argmax(axis=0)
    thr = ps[best, np.arange(Pa.shape[1])]
    return np.where(pos[0] > 0, thr, 0.5).astype(Pa.dtype)


def normalize_by_threshold(P: Any, thresholds: Any) -> np.ndarray:
    """``sigmoid(logit p - logit threshold)`` (N, T): 0.5 at each tag's own threshold, so one
    conformal cut treats frequent and rare tags alike (a fixed monotone map per tag)."""
    return np.asarray(_sigmoid(_logit(P) - _logit(np.asarray(thresholds)[None, :])))


def _f1_table(Y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    Yb = Y.astype(bool)
    tp = (Yb & pred).sum(axis=0).astype(np.float64)
    fp = (~Yb & pred).sum(axis=0).astype(np.float64)
    fn = (Yb & ~pred).sum(axis=0).astype(np.float64)
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1e-12)
    micro = 2 * tp.sum() / max(2 * tp.sum() + fp.sum() + fn.sum(), 1e-12)
    return {"per_tag_f1": f1, "micro_f1": float(micro), "macro_f1": float(f1.mean())}


@dataclass(repr=False)
class TableTaskModel(TrainedModel):
    """A trained multi-label or regression model: what ``load_model`` returns for one.

    ``classes`` are the tags (multi-label) or ``[label_column]`` (regression);
    ``weights[0]`` holds ``W0`` (D, T or 1), ``b0`` and, for regression, ``S0`` (D + 1,),
    the residual-scale model; ``conformal`` the levels and quantiles; ``metadata["task"]``
    the task and, for multi-label, ``thresholds``.
    """

    @property
    def task(self) -> str:
        return str(self.metadata.get("task", "classification"))

    @property
    def thresholds(self) -> np.ndarray:
        return np.asarray(self.metadata["thresholds"], dtype=np.float64)

    def decision_function(self, inputs: Any) -> np.ndarray:
        """Linear scores (N, T or 1), float32."""
        X = self._inputs(inputs)
        if X.shape[0] == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return forward_numpy(X, self.weights[0])

    def predict_proba(self, inputs: Any, *, calibrated: bool = True) -> Float32Array:
        """Multi-label: per-tag probabilities (N, T); rows need not sum to 1."""
        if self.task != "multilabel":
            raise InputError("predict_proba is for multi-label models; use predict_values.")
        return _sigmoid(self.decision_function(inputs)).astype(np.float32)

    def predict_values(self, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
        """Regression: predictions (N,) and the residual scale (N,) of each input."""
        if self.task != "regression":
            raise InputError("predict_values is for regression models; use predict_proba.")
        from ..audit._regression import residual_scale

        X = self._inputs(inputs)
        pred = forward_numpy(X, self.weights[0])[:, 0]
        scale = residual_scale(X, self.weights[0]["S0"], float(self.conformal["scale_c"]))
        return pred, scale

    def _level(self, alpha: float | None) -> float:
        alphas = [float(a) for a in self.conformal["alphas"]]
        a = alphas[0] if alpha is None else float(alpha)
        matches = [i for i, v in enumerate(alphas) if abs(v - a) < 1e-9]
        if not matches:
            raise InputError(f"alpha {a} was not calibrated at training; choose one of {alphas}.")
        return float(self.conformal["quantiles"][matches[0]][0])

    def predict_sets(self, probs: Float32Array, *, alpha: float | None = None) -> BoolArray:
        """Multi-label conformal sets (N, T): every tag whose probability (``score`` raw)
        or threshold-normalised probability (``normalized``) is at least ``1 - q_alpha``."""
        q = self._level(alpha)
        p = np.asarray(probs, dtype=np.float64)
        if self.conformal.get("score") == "normalized":
            p = normalize_by_threshold(p, self.thresholds)
        return np.asarray((1.0 - p) <= q)

    def predict_intervals(
        self, pred: np.ndarray, scale: np.ndarray, *, alpha: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Regression conformal interval ``pred ± q_alpha * scale`` (normalised scores) or
        ``pred ± q_alpha`` (absolute scores)."""
        q = self._level(alpha)
        half = q * scale if self.conformal.get("score") == "normalized" else np.full_like(pred, q)
        return pred - half, pred + half

    def predict(self, inputs: Any) -> list[str]:
        """Multi-label: the tags above their thresholds, joined by the training separator."""
        if self.task != "multilabel":
            raise InputError("predict returns tag sets; for numbers use predict_values.")
        sep = str(self.metadata.get("label_sep", ","))
        on = self.predict_proba(inputs) >= self.thresholds[None, :]
        cls = np.asarray(self.classes, dtype=object)
        return [sep.join(cls[row]) for row in on]

    def __repr__(self) -> str:
        m = self.metadata.get("metrics", {})
        key = "oof_micro_f1" if self.task == "multilabel" else "oof_mae"
        return (
            f"TableTaskModel(task={self.task!r}, featurizer={self.featurizer.get('name')!r}, "
            f"{key}={m.get(key)})"
        )

    def _repr_facts(self) -> list[tuple[str, Any]]:
        m = self.metadata.get("metrics", {})
        return [("task", self.task), ("featurizer", self.featurizer.get("name"))] + [
            (k, v) for k, v in m.items() if isinstance(v, int | float)
        ]

    def _render_report(self) -> str:
        from ._report import render_table_task_train_report

        return render_table_task_train_report(self)


# ------------------------------------------------------------------------ loading data


def _load_items(
    data: str | Path | pd.DataFrame,
    *,
    task: str,
    text_column: str | None,
    label_column: str | None,
    id_column: str | None,
    vectors_column: str | None,
    featurizer: str,
    has_features: bool = False,
) -> Any:
    from ..io import load_dataset
    from ._artifact import FEATURIZER_CHOICES

    if not label_column:
        raise InputError(f"`train --task {task}` needs --label-column NAME.")
    if has_features:
        featurizer, text_column, vectors_column = "given", None, None
    elif featurizer not in FEATURIZER_CHOICES or featurizer == "tabular":
        raise InputError(
            f"unknown featurizer {featurizer!r} for --task {task}; choose one of "
            "minilm, static, tfidf, vectors."
        )
    if featurizer == "vectors" and vectors_column is None:
        raise InputError("featurizer 'vectors' needs --vectors-column.")
    if featurizer not in ("vectors", "given") and text_column is None:
        raise InputError("pass --text-column (or --featurizer vectors with --vectors-column).")
    ds = load_dataset(
        data,
        text_column=text_column if featurizer not in ("vectors", "given") else None,
        label_column=None,
        id_column=id_column,
        vectors_column=vectors_column,
        require_labels=False,
    )
    if label_column not in ds.frame.columns:
        raise InputError(
            f"{ds.name}: no label column {label_column!r} "
            f"(columns: {', '.join(map(str, ds.frame.columns))})."
        )
    return ds


def _start(
    data: str | Path | pd.DataFrame,
    task: str,
    choices: tuple[tuple[str, str, tuple[str, ...]], ...],
    alphas: Sequence[float],
    **load: Any,
) -> tuple[Any, list[float], str | None]:
    """Check the options (``(name, value, allowed)``) and the conformal levels, load the
    items; returns the dataset, the levels and the source path (None for a DataFrame)."""
    for name, value, allowed in choices:
        if value not in allowed:
            raise InputError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}.")
    levels = [float(a) for a in alphas]
    if not levels or any(not 0 < a < 1 for a in levels):
        raise InputError(f"conformal levels must be in (0, 1); got {levels}.")
    source = None if isinstance(data, pd.DataFrame) else str(data)
    return _load_items(data, task=task, **load), levels, source


def _base_metadata(
    ds: Any, source: str | None, rows: np.ndarray, X: Any, targets: np.ndarray, **kw: Any
) -> dict[str, Any]:
    texts = ds.text[rows] if ds.text is not None else None
    return {
        "versions": _versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "training_data": {
            "source": source or ds.name,
            "sha256": _data_hash(ds.item_id[rows], texts, X if texts is None else None, targets),
            "n_items": int(len(rows)),
        },
        **kw,
    }


# ------------------------------------------------------------------------ multi-label


def train_multilabel(
    data: str | Path | pd.DataFrame,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    label_sep: str = ",",
    id_column: str | None = None,
    vectors_column: str | None = None,
    featurizer: str = "minilm",
    label_filter: str = DEFAULT_MULTILABEL_FILTER,
    C: float = 10.0,
    folds: int = 5,
    alphas: Sequence[float] = (0.1, 0.05),
    conformal_score: str = DEFAULT_MULTILABEL_SCORE,
    random_state: int = 0,
    features: Any = None,
) -> TableTaskModel:
    """Train a one-vs-rest multi-label model with per-tag thresholds and conformal sets.

    Parameters
    ----------
    data : path or DataFrame
    text_column, id_column, vectors_column : str, optional
    label_column : str
        Tags per item: a list column, or strings joined by ``label_sep`` (empty = no tag).
    label_sep : str, default ","
    featurizer : {"minilm", "static", "tfidf", "vectors"}
    label_filter : {"none", "flagged"}
        ``flagged``: a first cross-fit flags suspected wrong (item, tag) cells (the
        multi-label audit, :func:`~truelabel.audit.find_multilabel_issues`); they get
        weight 0 in that tag's loss for the calibration cross-fit and the final model.
    C : float
        Inverse L2 strength of the logistic regressions.
    folds : int
        K of the cross-fit that gives the calibration probabilities.
    alphas : sequence of float
        Conformal levels (the first is the default at prediction).
    conformal_score : {"raw", "normalized"}
        Non-conformity of a tag: ``1 - p`` (:class:`~truelabel.calibrate.MultiLabelConformal`
        as it is) or ``1 - p'`` with ``p'`` the probability normalised by the tag's
        threshold (:func:`normalize_by_threshold`), which treats rare tags like frequent
        ones.
    random_state : int
    features : ndarray (N, D), optional
        Precomputed features of the rows instead of featurizing (the model then predicts
        from vectors of the same kind; ``text_column`` / ``featurizer`` are ignored).

    Returns
    -------
    TableTaskModel
        Conformal guarantee: for a new item exchangeable with the training rows, its set
        holds *all* of its tags with probability >= 1 - alpha (over the draw of the
        calibration rows and the item), tags as the training labels give them; items
        without tags are not counted. Exact for split calibration; here the scores are
        cross-fitted and the model is refitted on all rows (cross-conformal), which is
        measured, not proven (BENCHMARKS.md).
    """
    from ..audit import find_multilabel_issues
    from ..audit._table_tasks import _tag_matrix, parse_tag_sets
    from ..calibrate import MultiLabelConformal
    from ..crossfit import SigmoidRegression, cross_val_predict_multilabel

    ds, alphas, source = _start(
        data,
        "multilabel",
        (
            ("label filter", label_filter, MULTILABEL_FILTERS),
            ("conformal score", conformal_score, ("raw", "normalized")),
        ),
        alphas,
        text_column=text_column,
        label_column=label_column,
        id_column=id_column,
        vectors_column=vectors_column,
        featurizer=featurizer,
        has_features=features is not None,
    )
    assert label_column is not None
    sets = parse_tag_sets(ds.frame[label_column].tolist(), label_sep)
    Y, tags = _tag_matrix(sets)
    if not tags:
        raise InputError(f"label column {label_column!r} holds no tags at all.")
    rows = np.arange(len(ds))
    if features is None:
        X, spec, tfidf_spec = fit_features(ds, rows, featurizer)
    else:
        X, spec, tfidf_spec = features, {"name": "vectors"}, None
    seed = int(random_state)
    est = SigmoidRegression(C=C)
    P = cross_val_predict_multilabel(X, Y, n_folds=folds, estimator=est, random_state=seed)
    weights = None
    n_filtered = 0
    if label_filter == "flagged":
        flags = find_multilabel_issues(Y, P)
        n_filtered = int(flags.sum())
        weights = (~flags).astype(np.float32)
        P = cross_val_predict_multilabel(
            X, Y, n_folds=folds, estimator=est, random_state=seed, sample_weight=weights
        )
    thr = best_f1_thresholds(Y, P)
    Pn = normalize_by_threshold(P, thr) if conformal_score == "normalized" else P
    quantiles = [[float(MultiLabelConformal(alpha=a).fit(Pn, Y).quantile_)] for a in alphas]
    final = SigmoidRegression(C=C).fit(X, Y, sample_weight=weights)
    tm = TableTaskModel(
        classes=list(tags),
        featurizer=spec,
        weights=[{"W0": final.coef_.T.copy(), "b0": final.intercept_.copy()}],
        temperature=1.0,
        conformal={
            "mode": "multilabel-all-tags",
            "score": conformal_score,
            "alphas": alphas,
            "quantiles": quantiles,
        },
        tfidf=tfidf_spec,
    )
    tm.metadata = {"task": "multilabel", "thresholds": [float(v) for v in thr]}
    pred = P >= thr[None, :]
    f1 = _f1_table(Y, pred)
    in_set = tm.predict_sets(P)
    has = Y.any(axis=1)
    covered = np.asarray(~(Y.astype(bool) & ~in_set).any(axis=1), dtype=bool)
    per_tag_recall = (in_set & Y.astype(bool)).sum(0) / np.maximum(Y.sum(0), 1)
    metrics: dict[str, Any] = {
        "calibration_data": "crossfit",
        "n_train": int(len(ds)),
        "n_calibration": int(has.sum()),
        "oof_micro_f1": round(f1["micro_f1"], 4),
        "oof_macro_f1": round(f1["macro_f1"], 4),
        "set_coverage_of_given_tags": round(float(covered[has].mean()), 4),
        "mean_set_size": round(float(in_set.sum(axis=1).mean()), 3),
        "mean_given_tags": round(float(Y.sum(axis=1).mean()), 3),
        "n_cells_filtered": n_filtered,
        "per_tag": [
            {
                "tag": t,
                "n_given": int(Y[:, j].sum()),
                "threshold": round(float(thr[j]), 4),
                "oof_f1": round(float(f1["per_tag_f1"][j]), 4),
                "set_recall": round(float(per_tag_recall[j]), 4),
            }
            for j, t in enumerate(tags)
        ],
    }
    tm.metadata.update(
        _base_metadata(
            ds,
            source,
            rows,
            X,
            Y,
            label_sep=label_sep,
            text_column=text_column,
            id_column=id_column,
            vectors_column=vectors_column,
            label_column=label_column,
            model="one-vs-rest logistic (L-BFGS)",
            loss="binary cross-entropy",
            label_filter=label_filter,
            hyperparameters={"C": C, "folds": folds},
            random_state=random_state,
            metrics=metrics,
        )
    )
    return tm


# ------------------------------------------------------------------------ regression


def train_regression(
    data: str | Path | pd.DataFrame,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
    vectors_column: str | None = None,
    featurizer: str = "minilm",
    loss: str = DEFAULT_REGRESSION_LOSS,
    label_filter: str = DEFAULT_REGRESSION_FILTER,
    conformal: str = "normalized",
    folds: int = 5,
    alphas: Sequence[float] = (0.1, 0.05),
    drop_missing: bool = False,
    random_state: int = 0,
    features: Any = None,
) -> TableTaskModel:
    """Train a robust linear regression with conformal intervals.

    Parameters
    ----------
    data : path or DataFrame
    text_column, label_column, id_column, vectors_column : str
    featurizer : {"minilm", "static", "tfidf", "vectors"}
        Dense features are needed (the penalty and the residual model are ridge
        cross-fits); tfidf with more than 5,000 columns is refused.
    loss : {"huber", "squared"}
        ``huber``: :class:`~truelabel.crossfit.HuberRegression` with
        ``delta = 1.345 * robust scale of the ridge residuals`` and the ridge's penalty;
        ``squared``: ridge.
    label_filter : {"none", "flagged"}
        ``flagged``: leave out the items the regression audit flags (cross-fitted ridge
        residual beyond 2.576 expected errors of the heteroscedastic residual model).
    conformal : {"normalized", "absolute"}
        Interval scores ``|y - pred| / scale(x)`` (intervals widen where the residual model
        expects larger errors) or ``|y - pred|`` (one width for all).
    folds : int
    alphas : sequence of float
    drop_missing : bool
        Leave out rows without a number instead of refusing them.
    random_state : int
    features : ndarray (N, D), optional
        Precomputed features of the rows (after ``drop_missing``).

    Returns
    -------
    TableTaskModel
        Conformal guarantee: ``P(lower <= y <= upper) >= 1 - alpha`` for a new item
        exchangeable with the training rows, ``y`` a label like the given ones (marginal
        over items; exact for split calibration, cross-conformal here — measured).
    """
    import scipy.sparse as sp

    from ..audit._regression import find_regression_issues, fit_residual_scale_model
    from ..audit._table_tasks import numeric_labels
    from ..calibrate import conformal_quantile
    from ..crossfit import HuberRegression, regression_folds
    from ..crossfit._ridge import ridge_cross_val_predict, ridge_fit

    ds, alphas, source = _start(
        data,
        "regression",
        (
            ("loss", loss, REGRESSION_LOSSES),
            ("label filter", label_filter, REGRESSION_FILTERS),
            ("conformal score", conformal, ("normalized", "absolute")),
        ),
        alphas,
        text_column=text_column,
        label_column=label_column,
        id_column=id_column,
        vectors_column=vectors_column,
        featurizer=featurizer,
        has_features=features is not None,
    )
    assert label_column is not None
    ds, y = numeric_labels(
        ds, label_column, drop_missing=drop_missing, drop_option="--unlabeled drop"
    )
    n = len(y)
    if n < 2 * folds:
        raise InputError(f"{n} items are too few for {folds} folds; add items.")
    if float(np.ptp(y)) == 0.0:
        raise InputError(f"every value of {label_column!r} is {y[0]:g}; nothing to learn.")
    rows = np.arange(n)
    if features is None:
        X, spec, tfidf_spec = fit_features(ds, rows, featurizer)
    else:
        X, spec, tfidf_spec = features, {"name": "vectors"}, None
    if sp.issparse(X):
        if X.shape[1] > 5_000:
            raise InputError(
                f"the {featurizer} features have {X.shape[1]} sparse columns; regression needs "
                "dense features — use --featurizer minilm or static (or vectors)."
            )
        X = np.asarray(X.toarray(), dtype=np.float32)
    fold_idx = regression_folds(n, folds, int(random_state))
    ridge_pred, alpha = ridge_cross_val_predict(X, y, fold_idx)
    weights = np.ones(n, dtype=np.float64)
    n_filtered = 0
    if label_filter == "flagged":
        from ..audit._regression import fit_residual_scale

        sc0 = fit_residual_scale(X, y - ridge_pred, fold_idx)
        flags = find_regression_issues(y, ridge_pred, sc0)
        weights = (~flags).astype(np.float64)
        n_filtered = int(flags.sum())
    r0 = (y - ridge_pred)[weights > 0]
    robust_sd = 1.4826 * float(np.median(np.abs(r0 - np.median(r0))))

    def fit(tr: np.ndarray) -> np.ndarray:
        coef0, lam = ridge_fit(X[tr], y[tr], alpha, sample_weight=weights[tr])
        if loss == "squared":
            return coef0
        hub = HuberRegression(C=1.0 / max(lam, 1e-12), scale=max(robust_sd, 1e-12))
        hub.fit(X[tr], y[tr], sample_weight=weights[tr], coef_init=coef0)
        return np.r_[hub.coef_.astype(np.float64), hub.intercept_]

    oof = np.zeros(n, dtype=np.float64)
    for te in fold_idx:
        tr = np.setdiff1d(rows, te)
        c = fit(tr)
        oof[te] = X[te] @ c[:-1] + c[-1]
    resid = y - oof
    scale_oof, scale_coef, scale_c = fit_residual_scale_model(X, resid, fold_idx)
    assert scale_coef is not None
    scores = np.abs(resid) / (scale_oof if conformal == "normalized" else 1.0)
    quantiles = [[float(conformal_quantile(scores, a))] for a in alphas]
    coef = fit(rows)
    tm = TableTaskModel(
        classes=[str(label_column)],
        featurizer=spec,
        weights=[
            {
                "W0": coef[:-1, None].astype(np.float32),
                "b0": np.array([coef[-1]], dtype=np.float32),
                "S0": scale_coef.astype(np.float64),
            }
        ],
        temperature=1.0,
        conformal={
            "mode": "split-conformal interval",
            "score": conformal,
            "alphas": alphas,
            "quantiles": quantiles,
            "scale_c": float(scale_c),
        },
        tfidf=tfidf_spec,
    )
    tm.metadata = {"task": "regression"}
    half0 = quantiles[0][0] * (scale_oof if conformal == "normalized" else np.ones(n))
    metrics: dict[str, Any] = {
        "calibration_data": "crossfit",
        "n_train": int(n - n_filtered),
        "n_calibration": int(n),
        "n_items_filtered": n_filtered,
        "oof_mae": round(float(np.abs(resid).mean()), 6),
        "oof_rmse": round(float(np.sqrt((resid**2).mean())), 6),
        "oof_r2": round(float(1.0 - (resid**2).mean() / max(float(y.var()), 1e-300)), 4),
        "ridge_oof_mae": round(float(np.abs(y - ridge_pred).mean()), 6),
        "interval_coverage_of_given_labels": round(float((np.abs(resid) <= half0).mean()), 4),
        "mean_interval_width": round(float(2 * half0.mean()), 6),
        "label_mean": float(y.mean()),
        "label_std": float(y.std()),
    }
    tm.metadata.update(
        _base_metadata(
            ds,
            source,
            rows,
            X,
            y[:, None],
            text_column=text_column,
            id_column=id_column,
            vectors_column=vectors_column,
            label_column=label_column,
            model="linear",
            loss=loss,
            label_filter=label_filter,
            hyperparameters={
                "ridge_alpha": alpha,
                "huber_delta": round(1.345 * robust_sd, 6) if loss == "huber" else None,
                "folds": folds,
            },
            random_state=random_state,
            metrics=metrics,
        )
    )
    return tm


# ------------------------------------------------------------------------ prediction


def predict_table_task(
    model: TableTaskModel, item_id: np.ndarray, inputs: Any, *, alpha: float | None = None
) -> pd.DataFrame:
    """The prediction table of a multi-label or regression model.

    Returns
    -------
    DataFrame
        Multi-label: ``item_id, label`` (tags above their thresholds, joined by the
        training separator), ``n_tags``, ``p_<tag>…``, ``prediction_set`` (the conformal
        set, joined). Regression: ``item_id, prediction, lower, upper, scale``.
    """
    if model.task == "multilabel":
        probs = model.predict_proba(inputs)
        sep = str(model.metadata.get("label_sep", ","))
        cls = np.asarray(model.classes, dtype=object)
        on = probs >= model.thresholds[None, :]
        sets = model.predict_sets(probs, alpha=alpha)
        out = pd.DataFrame(
            {
                "item_id": item_id,
                "label": [sep.join(cls[r]) for r in on],
                "n_tags": on.sum(axis=1).astype(np.int64),
            }
        )
        pcols = pd.DataFrame(probs, columns=[f"p_{t}" for t in model.classes], index=out.index)
        out = pd.concat([out, pcols], axis=1)
        out["prediction_set"] = [sep.join(cls[r]) for r in sets]
        return out
    pred, scale = model.predict_values(inputs)
    lo, hi = model.predict_intervals(pred, scale, alpha=alpha)
    return pd.DataFrame(
        {"item_id": item_id, "prediction": pred, "lower": lo, "upper": hi, "scale": scale}
    )
