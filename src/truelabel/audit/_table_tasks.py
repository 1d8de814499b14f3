"""``audit --task multilabel`` and ``audit --task regression``: a table of items whose label
is a set of tags or a number — load, featurize, cross-fit, score (the NumPy cores in
:mod:`._multilabel` and :mod:`._regression`) and assemble the tables.
"""

from __future__ import annotations

import ast
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._tasks import all_list_literals
from ..io import Dataset, load_array, load_dataset
from ._api import StageCallback, _Timer, _versions
from ._multilabel import estimate_multilabel_noise, find_multilabel_issues, get_multilabel_quality
from ._regression import score_regression
from ._result import IssueTableResult

__all__ = [
    "TableTaskAuditResult",
    "audit_multilabel",
    "audit_regression",
    "parse_tag_sets",
]

logger = logging.getLogger(__name__)

#: Per-tag probability columns ``p_<tag>`` are added to issues.parquet up to this many tags.
MAX_TAG_COLUMNS = 100


@dataclass(repr=False)
class TableTaskAuditResult(IssueTableResult):
    """The outcome of a multi-label or regression audit.

    Attributes
    ----------
    task : {"multilabel", "regression"}
    issues : DataFrame
        One row per item, most suspicious first: ``item_id``, ``given_label``,
        ``suggested_label``, ``label_quality`` (in [0, 1], lower = more likely wrong),
        ``is_label_issue``, then task columns (multi-label: ``missing_tags``,
        ``extra_tags``, ``p_<tag>``; regression: ``prediction``, ``residual``,
        ``residual_scale``, ``residual_z``, ``is_outlier``), ``issue``, ``reason``, ``row``.
    summary : dict
    predictions : ndarray
        Multi-label: (N, T) per-tag probabilities; regression: (N,) predictions; input order.
    tags : DataFrame or None
        Multi-label: one row per tag (rates, estimated missing/extra rates, flagged counts).
    """

    task: str
    issues: pd.DataFrame
    summary: dict[str, Any]
    predictions: np.ndarray
    tags: pd.DataFrame | None = None
    computed_predictions: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"TableTaskAuditResult(task={self.task!r}, n={s.get('n')}, "
            f"label_issues={s.get('counts', {}).get('label_issue')})"
        )

    def _render_report(self) -> str:
        from ._table_task_report import render_table_task_report

        return render_table_task_report(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        s = self.summary
        facts: list[tuple[str, Any]] = [
            ("task", self.task),
            ("items", s.get("n")),
            ("flagged items", s.get("counts", {}).get("label_issue")),
        ]
        return facts + [("warning", w) for w in s.get("warnings", [])]

    def save(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``issues.parquet``, ``summary.json``, ``report.html`` (and ``tags.parquet``,
        ``pred_probs.npy`` / ``predictions.npy``) atomically into ``out``."""
        name = "pred_probs.npy" if self.task == "multilabel" else "predictions.npy"
        return self._save_run(
            out,
            overwrite=overwrite,
            meta={"task": self.task, "settings": self.summary.get("settings", {})},
            tables={"tags.parquet": self.tags} if self.tags is not None else {},
            arrays={name: self.predictions} if self.computed_predictions else {},
        )


# --------------------------------------------------------------------------- loading


def parse_tag_sets(values: Any, sep: str = ",") -> list[list[str]]:
    """Tag sets from a column: lists/arrays as they are, strings split on ``sep``.

    A column whose every non-empty string is a list literal (``["joy", "love"]`` as JSON,
    or ``['joy', 'love']`` as a list column written to CSV by pandas) is read as lists,
    whatever ``sep`` is. Tags are stripped of surrounding whitespace; empty strings,
    missing values and empty lists are the empty set; repeats within an item are dropped
    (first kept).
    """
    values = _list_literals(values)
    out: list[list[str]] = []
    for v in values:
        if isinstance(v, list | tuple | np.ndarray):
            raw = [str(t) for t in v if t is not None]
        elif v is None or (isinstance(v, float) and np.isnan(v)):
            raw = []
        else:
            raw = str(v).split(sep) if sep else [str(v)]
        out.append(list(dict.fromkeys(t.strip() for t in raw if t.strip())))
    return out


def _list_literals(values: Any) -> list[Any]:
    """The values with list-literal strings parsed, if every non-empty string is one."""
    values = list(values)
    if not all_list_literals(values):
        return values
    out: list[Any] = []
    for v in values:
        if not (isinstance(v, str) and v.strip()):
            out.append(v)
            continue
        try:
            parsed = json.loads(v)
        except ValueError:
            try:
                parsed = ast.literal_eval(v.strip())
            except (ValueError, SyntaxError):
                return values  # not list literals after all: split as plain strings
        if not isinstance(parsed, list):
            return values
        out.append(parsed)
    return out


def _tag_matrix(sets: list[list[str]]) -> tuple[np.ndarray, list[str]]:
    tags = sorted({t for s in sets for t in s})
    pos = {t: j for j, t in enumerate(tags)}
    Y = np.zeros((len(sets), len(tags)), dtype=np.int8)
    rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    cols = np.fromiter((pos[t] for s in sets for t in s), dtype=np.int64, count=len(rows))
    Y[rows, cols] = 1
    return Y, tags


def _load(
    data: str | Path | pd.DataFrame,
    *,
    text_column: str | None,
    label_column: str | None,
    id_column: str | None,
    vectors_column: str | None,
    vectors_file: str | Path | np.ndarray | None,
    need_features: bool,
    drop_missing: bool,
    task: str,
) -> Dataset:
    if not label_column:
        raise InputError(f"`audit --task {task}` needs --label-column NAME.")
    if need_features and not (text_column or vectors_column or vectors_file is not None):
        raise InputError(
            "a text column is required to featurize the items; pass --text-column NAME "
            "(or --vectors-column / --vectors-file, or --pred-probs)."
        )
    return load_dataset(
        data,
        text_column=text_column,
        label_column=None,
        id_column=id_column,
        vectors_column=vectors_column,
        vectors_file=vectors_file,
        drop_missing=drop_missing,
        require_labels=False,
    )


def _keep_rows(ds: Dataset, keep: np.ndarray) -> Dataset:
    """The dataset without the rows where ``keep`` is False (recorded in ``dropped_rows``)."""
    from dataclasses import replace

    idx = np.flatnonzero(keep)
    row_no = np.setdiff1d(np.arange(len(ds) + len(ds.dropped_rows)), ds.dropped_rows)
    return replace(
        ds,
        frame=ds.frame.iloc[idx].reset_index(drop=True),
        item_id=ds.item_id[idx],
        text=None if ds.text is None else ds.text[idx],
        vectors=None if ds.vectors is None else ds.vectors[idx],
        dropped_rows=np.sort(np.r_[ds.dropped_rows, row_no[~keep]]).astype(np.int64),
    )


def numeric_labels(
    ds: Dataset, label_column: str, *, drop_missing: bool, drop_option: str = "--drop-missing"
) -> tuple[Dataset, Any]:
    """The numbers of ``label_column`` as float64 (N,), and the dataset without the rows
    that have none when ``drop_missing`` (else such rows are refused, naming the command's
    ``drop_option``, as are non-numbers)."""
    if label_column not in ds.frame.columns:
        raise InputError(
            f"{ds.name}: no label column {label_column!r} "
            f"(columns: {', '.join(map(str, ds.frame.columns))})."
        )
    raw = ds.frame[label_column]
    empty = raw.isna().to_numpy() | raw.astype(str).str.strip().eq("").to_numpy()
    if empty.any():
        if not drop_missing:
            rows = np.flatnonzero(empty)
            raise InputError(
                f"{ds.name}: {len(rows)} rows have no value in label column "
                f"{label_column!r} (rows {rows[:5].tolist()}); fill them or pass "
                f"{drop_option} to leave those rows out."
            )
        ds = _keep_rows(ds, ~empty)
        raw = ds.frame[label_column]
    y_s = pd.to_numeric(raw, errors="coerce")
    bad = np.flatnonzero(y_s.isna().to_numpy() | ~np.isfinite(y_s.to_numpy(dtype=float)))
    if len(bad):
        raise InputError(
            f"label column {label_column!r} is not a number on {len(bad)} rows (e.g. row "
            f"{int(bad[0])}: {raw.iloc[bad[0]]!r}); `--task regression` needs numbers — fix "
            "them, or use --task classification for class labels."
        )
    return ds, y_s.to_numpy(dtype=np.float64)


def _features(ds: Dataset, featurizer: str | None, timer: _Timer) -> tuple[Any, str]:
    with timer.stage("featurize"):
        if ds.vectors is not None:
            return ds.vectors, "vectors"
        from ..featurize import featurize, resolve_featurizer

        assert ds.text is not None
        name = resolve_featurizer(featurizer or "auto", len(ds))
        return featurize(list(ds.text), name), name


def _given_array(path_or_array: Any, n: int, name: str, ndim: int) -> np.ndarray:
    arr = load_array(path_or_array) if isinstance(path_or_array, str | Path) else path_or_array
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 2 and ndim == 1 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != ndim or arr.shape[0] != n:
        want = "(rows,)" if ndim == 1 else "(rows, tags)"
        raise InputError(f"{name}: shape {arr.shape}; expected {want} with {n} rows.")
    return arr


def _finish_issues(df: pd.DataFrame) -> pd.DataFrame:
    df["row"] = np.arange(len(df))
    order = np.lexsort((np.arange(len(df)), df["label_quality"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


def _base_summary(ds: Dataset, issues: pd.DataFrame, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "n": int(len(ds)),
        "data": ds.name,
        "n_dropped_missing_label": int(len(ds.dropped_rows)),
        "counts": {"label_issue": int(issues["is_label_issue"].sum())},
        "settings": settings,
        "versions": _versions(),
    }


# --------------------------------------------------------------------------- multi-label


def audit_multilabel(
    data: str | Path | pd.DataFrame,
    *,
    label_column: str | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    label_sep: str = ",",
    featurizer: str | None = None,
    vectors_column: str | None = None,
    vectors_file: str | Path | np.ndarray | None = None,
    pred_probs: str | Path | np.ndarray | None = None,
    folds: int = 5,
    random_state: int = 0,
    on_stage: StageCallback | None = None,
) -> TableTaskAuditResult:
    """Audit multi-label tags: which items have missing or extra tags, and how noisy each tag is.

    Parameters
    ----------
    data : path or DataFrame
    label_column : str
        Tags per item: a list column, or strings joined by ``label_sep`` (empty = no tag).
    text_column, id_column, vectors_column : str, optional
    label_sep : str, default ","
        Separator of the tag strings; ``given_label`` / ``suggested_label`` use it too.
    featurizer : {"auto", "minilm", "static", "tfidf"}, optional
    vectors_file : path or ndarray, optional
    pred_probs : path to ``.npy`` or ndarray of shape (N, T), optional
        Your own out-of-sample per-tag probabilities (columns = sorted tags).
    folds : int
        K of the one-vs-rest K-fold cross-fitting.
    random_state : int
    on_stage : callable(stage, "start"|"done"), optional

    Returns
    -------
    TableTaskAuditResult
    """
    from ..crossfit import cross_val_predict_multilabel

    timer = _Timer(on_stage)
    with timer.stage("load"):
        ds = _load(
            data,
            text_column=text_column,
            label_column=label_column,
            id_column=id_column,
            vectors_column=vectors_column,
            vectors_file=vectors_file,
            need_features=pred_probs is None,
            drop_missing=False,
            task="multilabel",
        )
        assert label_column is not None
        sets = parse_tag_sets(ds.frame[label_column].tolist(), label_sep)
        Y, tags = _tag_matrix(sets)
        if len(tags) < 1:
            raise InputError(f"label column {label_column!r} holds no tags at all.")
        P = None
        if pred_probs is not None:
            P = _given_array(pred_probs, len(ds), str(pred_probs)[:80], 2)
            if P.shape[1] != len(tags):
                raise InputError(
                    f"pred_probs has {P.shape[1]} columns but the labels hold {len(tags)} tags "
                    f"({tags[:10]}…); columns must follow the sorted tag list."
                )
    used = None
    computed = P is None
    if P is None:
        X, used = _features(ds, featurizer, timer)
        with timer.stage("crossfit"):
            P = cross_val_predict_multilabel(X, Y, n_folds=folds, random_state=random_state)
    with timer.stage("audit"):
        quality = get_multilabel_quality(Y, P)
        flags = find_multilabel_issues(Y, P)
        noise = estimate_multilabel_noise(Y, P)
    with timer.stage("assemble"):
        issues = _multilabel_issues(ds, sets, tags, Y, P, quality, flags, label_sep)
        tag_table = pd.DataFrame(
            {
                "tag": tags,
                "n_given": Y.sum(axis=0).astype(np.int64),
                "given_rate": noise.given_rate,
                "estimated_true_rate": noise.true_rate,
                "missing_rate": noise.missing_rate,
                "extra_rate": noise.extra_rate,
                "wrong_given_rate": noise.wrong_given_rate,
                "n_flagged_missing": (flags & (Y == 0)).sum(axis=0).astype(np.int64),
                "n_flagged_extra": (flags & (Y == 1)).sum(axis=0).astype(np.int64),
                "mean_prob": np.asarray(P, dtype=np.float64).mean(axis=0),
            }
        )
        summary = _base_summary(
            ds,
            issues,
            {
                "task": "multilabel",
                "featurizer": used,
                "folds": folds,
                "seed": random_state,
                "label_sep": label_sep,
                "end_model": "one-vs-rest logistic (C=10)" if computed else None,
                "pred_probs_given": not computed,
                "quality_method": "likelihood_ratio",
            },
        )
        summary.update(
            task="multilabel",
            n_tags=len(tags),
            tags=tags,
            mean_tags_per_item=float(Y.sum(axis=1).mean()),
            noise_rate=noise.noise_rate,
            estimated_items_with_wrong_tags=float((1.0 - quality).mean()),
            per_tag=tag_table.round(5).to_dict("records"),
        )
        summary["counts"].update(
            missing_tags=int((flags & (Y == 0)).sum()), extra_tags=int((flags & (Y == 1)).sum())
        )
    summary["timings_s"] = dict(timer.times)
    return TableTaskAuditResult(
        task="multilabel",
        issues=issues,
        summary=summary,
        predictions=np.asarray(P, dtype=np.float32),
        tags=tag_table,
        computed_predictions=computed,
    )


def _join(tag_lists: list[list[str]], sep: str) -> np.ndarray:
    return np.array([sep.join(t) for t in tag_lists], dtype=object)


def _multilabel_issues(
    ds: Dataset,
    sets: list[list[str]],
    tags: list[str],
    Y: np.ndarray,
    P: np.ndarray,
    quality: np.ndarray,
    flags: np.ndarray,
    sep: str,
) -> pd.DataFrame:
    tag_arr = np.asarray(tags, dtype=object)
    missing_mask = flags & (Y == 0)
    extra_mask = flags & (Y == 1)
    # per item: the flagged tags, as lists (one pass over the flagged cells, not the items)
    missing: list[list[str]] = [[] for _ in range(len(ds))]
    extra: list[list[str]] = [[] for _ in range(len(ds))]
    for i, j in zip(*np.nonzero(missing_mask), strict=True):
        missing[i].append(tag_arr[j])
    for i, j in zip(*np.nonzero(extra_mask), strict=True):
        extra[i].append(tag_arr[j])
    suggested = [
        [t for t in s if t not in set(e)] + m for s, e, m in zip(sets, extra, missing, strict=True)
    ]
    cols: dict[str, Any] = {"item_id": ds.item_id}
    if ds.text is not None:
        cols["text"] = ds.text
    is_issue = flags.any(axis=1)
    cols.update(
        given_label=_join(sets, sep),
        suggested_label=_join(suggested, sep),
        label_quality=np.asarray(quality, dtype=np.float32),
        is_label_issue=is_issue,
        missing_tags=_join(missing, sep),
        extra_tags=_join(extra, sep),
        n_missing=missing_mask.sum(axis=1).astype(np.int64),
        n_extra=extra_mask.sum(axis=1).astype(np.int64),
    )
    df = pd.DataFrame(cols)
    if len(tags) <= MAX_TAG_COLUMNS:
        probs = pd.DataFrame(
            np.asarray(P, dtype=np.float32), columns=[f"p_{t}" for t in tags], index=df.index
        )
        df = pd.concat([df, probs], axis=1)
    df["issue"] = np.where(is_issue, "label_error", "none")
    reason = np.full(len(df), "", dtype=object)
    flagged = np.flatnonzero(is_issue)
    if len(flagged):
        sub = df.iloc[flagged]
        text = pd.Series("", index=sub.index)
        has_m = sub["missing_tags"] != ""
        has_e = sub["extra_tags"] != ""
        text = text.where(~has_m, "probably missing: " + sub["missing_tags"].astype(str))
        both = has_m & has_e
        text = text.where(~both, text + "; ")
        text = text.where(~has_e, text + "probably extra: " + sub["extra_tags"].astype(str))
        reason[flagged] = text.to_numpy()
    df["reason"] = reason
    return _finish_issues(df)


# --------------------------------------------------------------------------- regression


def audit_regression(
    data: str | Path | pd.DataFrame,
    *,
    label_column: str | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    featurizer: str | None = None,
    vectors_column: str | None = None,
    vectors_file: str | Path | np.ndarray | None = None,
    pred_probs: str | Path | np.ndarray | None = None,
    folds: int = 5,
    random_state: int = 0,
    drop_missing: bool = False,
    on_stage: StageCallback | None = None,
) -> TableTaskAuditResult:
    """Audit numeric labels: which given numbers are implausible for their item.

    Cross-fitted ridge predictions (penalty chosen by out-of-fold error), a cross-fitted
    model of the residual spread (heteroscedastic), the standardised residual per item and
    its two-sided tail probability as label quality; values far from every other label
    are flagged as outliers.

    Parameters
    ----------
    data : path or DataFrame
    label_column : str
        The numbers (a numeric column; non-numbers are refused with their rows).
    text_column, id_column, vectors_column, featurizer, vectors_file, folds, random_state
        As in :func:`truelabel.audit`.
    pred_probs : path to ``.npy`` or ndarray of shape (N,), optional
        Your own out-of-sample predictions (the residual model is then fitted on the
        features, which are still needed).
    drop_missing : bool
        Leave out rows without a number instead of refusing.
    on_stage : callable, optional

    Returns
    -------
    TableTaskAuditResult
    """
    from ..crossfit import cross_val_predict_regression, regression_folds

    timer = _Timer(on_stage)
    with timer.stage("load"):
        ds = _load(
            data,
            text_column=text_column,
            label_column=label_column,
            id_column=id_column,
            vectors_column=vectors_column,
            vectors_file=vectors_file,
            need_features=True,
            drop_missing=drop_missing,
            task="regression",
        )
        assert label_column is not None
        ds, y = numeric_labels(ds, label_column, drop_missing=drop_missing)
        given_pred = None
        if pred_probs is not None:
            given_pred = _given_array(pred_probs, len(ds), str(pred_probs)[:80], 1)
    X, used = _features(ds, featurizer, timer)
    folds_idx = regression_folds(len(ds), folds, random_state) if len(ds) >= 2 * folds else None
    if folds_idx is None:
        raise InputError(f"{len(ds)} items are too few for --folds {folds}; lower --folds.")
    alpha = None
    with timer.stage("crossfit"):
        if given_pred is None:
            pred, alpha = cross_val_predict_regression(X, y, n_folds=folds, folds=folds_idx)
        else:
            pred = given_pred
    with timer.stage("audit"):
        sc = score_regression(X, y, pred, folds_idx)
    with timer.stage("assemble"):
        cols: dict[str, Any] = {"item_id": ds.item_id}
        if ds.text is not None:
            cols["text"] = ds.text
        cols.update(
            given_label=y,
            suggested_label=sc.predictions.astype(np.float64),
            label_quality=sc.label_quality,
            is_label_issue=sc.is_label_issue,
            prediction=sc.predictions,
            residual=(y - sc.predictions).astype(np.float32),
            residual_scale=sc.scale,
            residual_z=sc.residual_z,
            is_outlier=sc.is_outlier,
            value_z=sc.value_z,
        )
        df = pd.DataFrame(cols)
        issue = np.full(len(df), "none", dtype=object)
        issue[sc.is_outlier] = "outlier"
        issue[sc.is_label_issue] = "label_error"
        df["issue"] = issue
        reason = np.full(len(df), "", dtype=object)
        flagged = np.flatnonzero(issue != "none")
        if len(flagged):
            sub = df.iloc[flagged]
            text = (
                "given "
                + sub["given_label"].map("{:.4g}".format)
                + "; predicted "
                + sub["prediction"].map("{:.4g}".format)
                + " ± "
                + sub["residual_scale"].map("{:.3g}".format)
                + " (z = "
                + sub["residual_z"].map("{:+.1f}".format)
                + ")"
            )
            text = text.where(~sub["is_outlier"], text + "; value far from all other labels")
            reason[flagged] = text.to_numpy()
        df["reason"] = reason
        issues = _finish_issues(df)
        resid = y - pred
        summary = _base_summary(
            ds,
            issues,
            {
                "task": "regression",
                "featurizer": used,
                "folds": folds,
                "seed": random_state,
                "end_model": "ridge (penalty by out-of-fold error)" if given_pred is None else None,
                "ridge_alpha": alpha,
                "pred_given": given_pred is not None,
            },
        )
        summary.update(
            task="regression",
            label_stats={
                "mean": float(y.mean()),
                "std": float(y.std()),
                "min": float(y.min()),
                "max": float(y.max()),
            },
            oof_mae=float(np.abs(resid).mean()),
            oof_r2=float(1.0 - (resid**2).mean() / max(float(y.var()), 1e-300)),
            residual_scale_range=[float(sc.scale.min()), float(sc.scale.max())],
        )
        summary["counts"]["outlier"] = int(sc.is_outlier.sum())
    summary["timings_s"] = dict(timer.times)
    return TableTaskAuditResult(
        task="regression",
        issues=issues,
        summary=summary,
        predictions=sc.predictions,
        computed_predictions=given_pred is None,
    )
