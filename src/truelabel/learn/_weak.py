"""Train a model artifact from weaker supervision: positives only, candidate sets, bag
proportions. The table side of :class:`PUClassifier`, :class:`PartialLabelClassifier` and
:class:`LabelProportionClassifier`; ``truelabel train --pu | --candidates-column |
--bag-column`` calls :func:`train_weak_model`.

These models have no labeled held-out rows, so they are not temperature-scaled and carry
no conformal thresholds; ``model.json`` records what was learned (``class_prior`` for PU)
and in-sample diagnostics instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..io._dataset import missing_values
from ._artifact import (
    FEATURIZER_CHOICES,
    MODEL_CHOICES,
    TrainedModel,
    _data_hash,
    _versions,
    fit_features,
)
from ._calibrated import make_estimator

__all__ = ["WEAK_MODES", "train_weak_model"]

logger = logging.getLogger(__name__)

WEAK_MODES = ("pu", "partial", "proportions")


def _same_value(col: pd.Series, value: str) -> np.ndarray:
    """Cells equal to ``value`` as text (``1``, ``1.0`` and ``"1"`` all match ``"1"``)."""
    s = col.astype("string").str.strip()
    hit = s.eq(value).fillna(False).to_numpy(dtype=bool)
    try:
        num = float(value)
    except ValueError:
        return hit
    as_num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    return hit | (as_num == num)


def _negative_name(col: pd.Series, positive: np.ndarray, empty: np.ndarray, pos: str) -> str:
    others = pd.unique(col[~positive & ~empty].astype(str).str.strip())
    if len(others) == 1:
        return str(others[0])
    return {"1": "0", "true": "false", "yes": "no", "True": "False"}.get(pos, f"not_{pos}")


def _pu_targets(
    frame: pd.DataFrame, label_column: str, positive_label: str, name: str
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    col = frame[label_column]
    empty = missing_values(col)
    positive = _same_value(col, str(positive_label)) & ~empty
    if not positive.any():
        shown = list(pd.unique(col[~empty].astype(str)))[:10]
        raise InputError(
            f"{name}: no row of label column {label_column!r} equals --positive-label "
            f"{positive_label!r} (values seen: {shown}); pass the value that marks a positive."
        )
    if positive.all():
        raise InputError(
            f"{name}: every row of {label_column!r} is a labeled positive; PU learning needs "
            "unlabeled rows too (leave their label empty)."
        )
    other = ~positive & ~empty
    if other.any():
        logger.warning(
            "%d rows of %s hold a label other than %r; PU treats them as unlabeled",
            int(other.sum()),
            label_column,
            positive_label,
        )
    classes = [_negative_name(col, positive, empty, str(positive_label)), str(positive_label)]
    info = {
        "n_labeled_positive": int(positive.sum()),
        "n_unlabeled": int((~positive).sum()),
        "n_other_label_as_unlabeled": int(other.sum()),
    }
    return positive, classes, info


def _bag_table(
    frame: pd.DataFrame, bag_column: str, proportions: Any, name: str
) -> tuple[np.ndarray, np.ndarray, list[str], dict[str, Any]]:
    from ..io import read_table

    props = proportions if isinstance(proportions, pd.DataFrame) else read_table(proportions)
    pname = "the proportions DataFrame" if isinstance(proportions, pd.DataFrame) else proportions
    key = "bag" if "bag" in props.columns else bag_column
    if key not in props.columns:
        raise InputError(
            f"{pname} has no 'bag' column (columns: {list(props.columns)[:10]}); write it as "
            "`bag,<class>,<class>…` with one row per bag."
        )
    cls_cols = [c for c in props.columns if c != key]
    if len(cls_cols) < 2:
        raise InputError(
            f"{pname} needs a column per class beside 'bag' (got {cls_cols}); e.g. "
            "`bag,complaint,other`."
        )
    P = props[cls_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(P).all(axis=1) | (P < 0).any(axis=1))
    if bad.size:
        raise InputError(
            f"{pname} row {int(bad[0])} (bag {props[key].iloc[bad[0]]!r}) has a missing, "
            "non-numeric or negative share; give every class's share as a number."
        )
    s = P.sum(axis=1)
    counts = np.abs(s - 1) > 1e-2
    if counts.any() and (s[counts] < 1.5).any():
        r = int(np.flatnonzero(counts & (s < 1.5))[0])
        raise InputError(
            f"{pname} row {r} (bag {props[key].iloc[r]!r}) shares sum to {s[r]:.3f}; give "
            "shares that add up to 1 (or counts per class)."
        )
    P = P / s[:, None]  # counts become shares
    bag_keys = props[key].astype(str).str.strip()
    if bag_keys.duplicated().any():
        raise InputError(
            f"{pname} lists bag {bag_keys[bag_keys.duplicated()].iloc[0]!r} twice; one row per bag."
        )
    bcol = frame[bag_column]
    empty = missing_values(bcol)
    if empty.any():
        raise InputError(
            f"{name}: bag column {bag_column!r} is empty on {int(empty.sum())} rows (first: "
            f"row {int(np.flatnonzero(empty)[0])}); every row needs a bag."
        )
    values = bcol.astype(str).str.strip().to_numpy()
    idx = pd.Index(bag_keys).get_indexer(pd.Index(values))
    if (idx < 0).any():
        miss = pd.unique(values[idx < 0])
        raise InputError(
            f"{name}: {len(miss)} bag(s) have no row in {pname} (first: bag {miss[0]!r}, on "
            f"row {int(np.flatnonzero(idx < 0)[0])}); add their class shares."
        )
    used = np.unique(idx)
    remap = np.full(len(P), -1)
    remap[used] = np.arange(len(used))
    info = {"n_bags": int(len(used)), "mean_bag_size": float(len(values) / len(used))}
    return remap[idx], P[used], [str(c) for c in cls_cols], info


def train_weak_model(
    data: str | Path | pd.DataFrame,
    *,
    mode: str,
    label_column: str | None = None,
    positive_label: str = "1",
    prior: float | None = None,
    candidates_column: str | None = None,
    label_sep: str = "|",
    bag_column: str | None = None,
    proportions: str | Path | pd.DataFrame | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    vectors_column: str | None = None,
    feature_columns: str | Sequence[str] | None = None,
    featurizer: str = "minilm",
    model: str = "logreg",
    epochs: int | None = None,
    random_state: int = 0,
) -> TrainedModel:
    """Train a model artifact from positives only, candidate sets or bag proportions.

    Parameters
    ----------
    data : path or DataFrame
    mode : {"pu", "partial", "proportions"}
        ``pu``: rows whose ``label_column`` equals ``positive_label`` are labeled
        positives, every other row (empty label) is unlabeled; trains
        :class:`PUClassifier` (prior estimated unless ``prior`` is given).
        ``partial``: ``candidates_column`` holds each row's candidate labels joined by
        ``label_sep``; trains :class:`PartialLabelClassifier`.
        ``proportions``: ``bag_column`` names each row's bag and ``proportions`` is a
        table ``bag, <class>, …`` of class shares (or counts) per bag; trains
        :class:`LabelProportionClassifier`.
    feature_columns : "auto", "a,b,c" or list, optional
        Tabular input (``auto``: every column but the label, candidates, bag and id
        columns). Else ``text_column`` with ``featurizer``, or ``vectors_column``.
    model : {"logreg", "mlp"}
    epochs : int, optional
    random_state : int

    Returns
    -------
    TrainedModel
        ``metadata["supervision"]`` is the mode; PU models record ``class_prior``.
    """
    from ..io import load_dataset
    from ._llp import LabelProportionClassifier
    from ._partial import PartialLabelClassifier, parse_candidates
    from ._pu import PUClassifier

    if mode not in WEAK_MODES:
        raise InputError(f"unknown weak-supervision mode {mode!r}; choose one of {WEAK_MODES}.")
    if feature_columns is not None:
        featurizer = "tabular"
    if featurizer not in FEATURIZER_CHOICES:
        raise InputError(f"unknown featurizer {featurizer!r}; choose one of {FEATURIZER_CHOICES}.")
    if model not in MODEL_CHOICES:
        raise InputError(f"unknown model {model!r}; choose one of {MODEL_CHOICES}.")
    needed = {"pu": label_column, "partial": candidates_column, "proportions": bag_column}
    flag = {"pu": "--label-column", "partial": "--candidates-column", "proportions": "--bag-column"}
    if needed[mode] is None:
        raise InputError(f"{mode} training needs {flag[mode]}.")
    if mode == "proportions" and proportions is None:
        raise InputError("--bag-column needs --proportions FILE (bag,<class>,… shares).")
    if featurizer == "vectors" and vectors_column is None:
        raise InputError("featurizer 'vectors' needs --vectors-column.")
    if featurizer not in ("vectors", "tabular") and text_column is None:
        raise InputError(
            "pass --feature-columns (tabular data), --text-column, or --featurizer vectors "
            "with --vectors-column."
        )
    ds = load_dataset(
        data,
        text_column=text_column if featurizer not in ("vectors", "tabular") else None,
        id_column=id_column,
        vectors_column=vectors_column,
        require_labels=False,
    )
    for c in (label_column, candidates_column, bag_column):
        if c is not None and c not in ds.frame.columns:
            from ..io._readers import missing_columns_message

            raise InputError(missing_columns_message([c], ds.frame.columns, data))
    rows = np.arange(len(ds))
    exclude = (label_column, candidates_column, bag_column, id_column)
    X, spec, tfidf_spec = fit_features(
        ds, rows, featurizer, feature_columns=feature_columns, exclude=exclude
    )
    base = make_estimator(model, "ce", "plain", random_state, epochs, 0.2)
    t0 = time.time()
    info: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if mode == "pu":
        assert label_column is not None
        positive, classes, info = _pu_targets(ds.frame, label_column, positive_label, ds.name)
        est: Any = PUClassifier(base, prior=prior, random_state=random_state).fit(X, positive)
        p = est.predict_proba(X)[:, 1]
        extra = {
            "class_prior": est.class_prior_,
            "class_prior_source": "given" if prior is not None else "estimated (bbe)",
            "label_frequency": est.label_frequency_,
        }
        metrics = {
            "share_predicted_positive": float((p >= 0.5).mean()),
            "labeled_positives_predicted_positive": float((p[positive] >= 0.5).mean()),
        }
        targets = np.stack([~positive, positive], axis=1).astype(np.float32)
    elif mode == "partial":
        assert candidates_column is not None
        C, classes = parse_candidates(ds.frame[candidates_column].to_numpy(), sep=label_sep)
        est = PartialLabelClassifier(base, random_state=random_state).fit(X, C)
        pred = est.predict(X)
        n_cand = C.sum(axis=1)
        info = {
            "mean_candidates": float(n_cand.mean()),
            "share_unambiguous": float((n_cand == 1).mean()),
        }
        metrics = {
            "train_prediction_in_candidates": float(C[np.arange(len(C)), pred].mean()),
        }
        targets = est.disambiguation_
    else:
        assert bag_column is not None
        bag, P, classes, info = _bag_table(ds.frame, bag_column, proportions, ds.name)
        est = LabelProportionClassifier(base, random_state=random_state).fit(X, bag, P)
        prob = est.predict_proba(X).astype(np.float64)
        B = len(P)
        size = np.bincount(bag, minlength=B).astype(np.float64)
        sums = np.stack([np.bincount(bag, prob[:, k], B) for k in range(P.shape[1])], 1)
        mean = sums.astype(np.float64) / size[:, None]
        metrics = {"train_bag_proportion_mae": float(np.abs(mean - P).mean())}
        targets = est.pseudo_labels_
    inner = est.estimator_
    logger.info("%s training in %.1fs", mode, time.time() - t0)
    tm = TrainedModel(
        classes=[str(c) for c in classes],
        featurizer=spec,
        weights=inner.weights_,
        temperature=1.0,
        conformal={"score": "lac", "mode": "none", "alphas": [], "quantiles": []},
        tfidf=tfidf_spec,
    )
    params = {k: v for k, v in inner.get_params().items() if k != "random_state"}
    texts = ds.text if ds.text is not None else None
    tm.metadata = {
        "versions": _versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "supervision": mode,
        **extra,
        "training_data": {
            "source": ds.name,
            "sha256": _data_hash(ds.item_id, texts, X if texts is None else None, targets),
            "n_items": int(len(ds)),
            **info,
        },
        "text_column": text_column,
        "id_column": id_column,
        "vectors_column": vectors_column,
        "label_column": label_column,
        "candidates_column": candidates_column,
        "bag_column": bag_column,
        "model": model,
        "random_state": random_state,
        "hyperparameters": params,
        "metrics": {**metrics, "epochs_run": int(inner.n_epochs_)},
        "calibrated": False,
    }
    return tm
