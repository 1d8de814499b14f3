"""Table-level entry points: read a labels table (and a gold file), estimate, plan, select.

These functions do the I/O and column handling around the NumPy core in
:mod:`._estimators` and :mod:`._plan`. They read the ``labels.parquet`` of a
``label``/``aggregate``/``predict`` run directly (``item_id``, ``label``,
``confidence``, ``p_<class>`` …); gold values come from a column of the table
or from a separate gold file joined on the item id. Rows whose gold value is
empty are unlabeled.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._types import RandomState
from ..io import RunDir, canonical_labels, check_label_types, read_table
from ..io._readers import missing_columns_message
from ._estimators import estimate_mean, estimate_proportions, estimate_regression
from ._formula import parse_formula
from ._plan import GoldPlan, plan_gold, prediction_uncertainty, select_gold
from ._result import EstimateResult

__all__ = ["EstimateRun", "estimate", "plan", "select", "write_estimate_run"]

log = logging.getLogger(__name__)

OUTCOMES = ("auto", "mean", "proportions", "ols", "logit")
_PROB_PREFIX = "p_"


@dataclass
class _Prepared:
    df: pd.DataFrame
    gold_cols: list[str]
    pred_cols: list[str]
    source: str


def _as_list(x: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def _empty(s: pd.Series) -> np.ndarray:
    """Empty gold: NaN/None or a blank string."""
    blank = s.astype("string").str.strip().fillna("") == ""
    return np.asarray(s.isna() | blank, dtype=bool)


def _prepare(
    data: str | Path | pd.DataFrame,
    *,
    prediction_column: str | list[str],
    gold_column: str | list[str] | None,
    gold: str | Path | pd.DataFrame | None,
    item_column: str,
    gold_item_column: str,
    gold_label_column: str,
    extra_gold_columns: list[str],
) -> _Prepared:
    df = read_table(data)
    source = "the DataFrame" if isinstance(data, pd.DataFrame) else str(data)
    preds = _as_list(prediction_column)
    golds = _as_list(gold_column)
    if gold is not None:
        g = read_table(gold)
        gname = "the gold DataFrame" if isinstance(gold, pd.DataFrame) else str(gold)
        need = [gold_item_column, gold_label_column]
        miss = [c for c in need if c not in g.columns]
        if miss:
            raise InputError(
                missing_columns_message(miss, g.columns, gold)
                + " (set --gold-item-column / --gold-label-column)"
            )
        if item_column not in df.columns:
            raise InputError(
                missing_columns_message([item_column], df.columns, data)
                + " (set --item-column to the id shared with the gold file)"
            )
        dup = g[gold_item_column].duplicated()
        if dup.any():
            raise InputError(
                f"{gname}: item {g[gold_item_column][dup].tolist()[0]!r} has more than one gold "
                "row; keep one gold value per item."
            )
        target = golds[0] if golds else "gold"
        keep = [gold_item_column, gold_label_column] + [
            c for c in extra_gold_columns if c in g.columns and c not in df.columns
        ]
        g = g[keep].rename(columns={gold_item_column: item_column, gold_label_column: target})
        if target in df.columns:
            df = df.drop(columns=[target])
        if df[item_column].dtype.kind != g[item_column].dtype.kind:
            # ids as numbers in one table and text in the other (review exports write
            # text): match them by their text
            as_text = pd.Series(df[item_column].to_numpy(), index=df[item_column].astype(str))
            as_text = as_text[~as_text.index.duplicated()]
            g = g.assign(**{item_column: g[item_column].astype(str)})
            known = g[item_column].isin(as_text.index)
            if not known.all():
                warnings.warn(
                    f"{gname}: {int((~known).sum())} gold items are not in {source} and are "
                    f"ignored (e.g. {g[item_column][~known].tolist()[0]!r}).",
                    UserWarning,
                    stacklevel=3,
                )
            g = g[known].assign(**{item_column: as_text.loc[g[item_column][known]].to_numpy()})
        unknown = ~g[item_column].isin(df[item_column])
        if unknown.any():
            warnings.warn(
                f"{gname}: {int(unknown.sum())} gold items are not in {source} and are ignored "
                f"(e.g. {g[item_column][unknown].tolist()[0]!r}).",
                UserWarning,
                stacklevel=3,
            )
        df = df.merge(g, on=item_column, how="left", validate="many_to_one")
        golds = [target]
    if not golds:
        golds = ["gold"]
    if len(preds) != len(golds):
        raise InputError(
            f"{len(golds)} gold columns ({', '.join(golds)}) but {len(preds)} prediction "
            f"columns ({', '.join(preds)}); pass one --prediction-column per --gold-column."
        )
    miss = [c for c in golds + preds if c not in df.columns]
    if miss:
        hint = (
            " (pass --gold FILE to join gold labels from another file)"
            if set(miss) & set(golds)
            else ""
        )
        raise InputError(missing_columns_message(miss, df.columns, data) + hint)
    return _Prepared(df, golds, preds, source)


def _numeric(df: pd.DataFrame, col: str, what: str) -> np.ndarray:
    s = df[col]
    if s.dtype == bool:
        return s.to_numpy(dtype=float)
    vals = pd.to_numeric(s.where(~pd.Series(_empty(s), index=s.index)), errors="coerce")
    bad = vals.isna() & ~pd.Series(_empty(s), index=s.index)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"column {col!r} ({what}) row {i}: {s.iloc[i]!r} is not a number; "
            "use --outcome proportions for class labels, or encode the column as numbers."
        )
    return vals.to_numpy(dtype=float)


def _check_value_types(df: pd.DataFrame, prep: _Prepared, labeled: np.ndarray) -> bool:
    """The io label-type rule on the gold (labeled rows) and prediction columns.

    Returns whether every gold value is a number.
    """
    gcol, pcol = prep.gold_cols[0], prep.pred_cols[0]
    rows = np.flatnonzero(labeled)
    isnum = check_label_types(
        df[gcol].iloc[rows], where=f"{prep.source}: gold column {gcol!r}", rows=rows
    )
    has = np.flatnonzero(~_empty(df[pcol]))
    check_label_types(
        df[pcol].iloc[has], where=f"{prep.source}: prediction column {pcol!r}", rows=has
    )
    return bool(isnum.all())


def _check_class_values(df: pd.DataFrame, gcol: str, labeled: np.ndarray, source: str) -> None:
    """Class shares need class labels: refuse fractional numbers in the gold column."""
    vals = pd.to_numeric(df[gcol][labeled], errors="coerce").to_numpy(dtype=np.float64)
    frac = np.isfinite(vals) & (vals != np.round(vals))
    if frac.any():
        i = int(np.flatnonzero(labeled)[np.flatnonzero(frac)[0]])
        raise InputError(
            f"{source}: gold column {gcol!r} holds fractional numbers (e.g. {vals[frac][0]:g} on "
            f"row {i}), but class shares count class labels; use --outcome mean for a "
            "numeric quantity."
        )


def _prob_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if isinstance(c, str) and c.startswith(_PROB_PREFIX)]


def estimate(
    data: str | Path | pd.DataFrame,
    *,
    prediction_column: str | list[str] = "label",
    gold_column: str | list[str] | None = None,
    gold: str | Path | pd.DataFrame | None = None,
    item_column: str = "item_id",
    gold_item_column: str = "item_id",
    gold_label_column: str = "label",
    outcome: str = "auto",
    formula: str | None = None,
    sampling_prob_column: str | None = None,
    cluster_column: str | None = None,
    method: str = "dsl",
    level: float = 0.95,
    random_state: RandomState = 0,
) -> EstimateResult:
    """Valid estimate from a table of predictions plus gold values on some rows.

    Parameters
    ----------
    data : path or DataFrame
        One row per item with the prediction column(s); e.g. a run's ``labels.parquet``.
    prediction_column : str or list of str
        Prediction of each labeled variable (``label`` in ``labels.parquet``). For
        class proportions, ``p_<class>`` columns are used as probabilities when present.
    gold_column : str or list of str, optional
        Column(s) holding gold values (empty = unlabeled). Default ``"gold"``.
    gold : path or DataFrame, optional
        Separate gold file, joined on ``item_column`` = ``gold_item_column``; its
        ``gold_label_column`` becomes the gold column (named ``gold_column`` or ``"gold"``).
        Its ``sampling_prob_column`` and ``cluster_column`` are joined too.
    outcome : {"auto", "mean", "proportions", "ols", "logit"}
        ``auto``: ``ols`` with a formula, ``proportions`` for class labels, else ``mean``.
    formula : str, optional
        ``"y ~ x1 + x2"`` over column names; the gold column may be the outcome and/or
        a covariate (its prediction column is the surrogate).
    sampling_prob_column : str, optional
        Probability with which each gold row was chosen (stratified/active designs).
    cluster_column : str, optional
        Cluster ids for cluster-robust standard errors.
    method : {"dsl", "ppi++"}
    level : float
    random_state : int, Generator or None

    Returns
    -------
    EstimateResult
    """
    if outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}.")
    extra = [c for c in (sampling_prob_column, cluster_column) if c]
    prep = _prepare(
        data,
        prediction_column=prediction_column,
        gold_column=gold_column,
        gold=gold,
        item_column=item_column,
        gold_item_column=gold_item_column,
        gold_label_column=gold_label_column,
        extra_gold_columns=extra,
    )
    df = prep.df
    for c in extra:
        if c not in df.columns:
            raise InputError(missing_columns_message([c], df.columns, data))
    labeled = ~np.any(np.column_stack([_empty(df[g]) for g in prep.gold_cols]), axis=1)
    pi = None
    if sampling_prob_column:
        pi = pd.to_numeric(df[sampling_prob_column], errors="coerce").to_numpy(dtype=float)
        pi = np.where(labeled, pi, 1.0)
        bad = labeled & ~np.isfinite(pi)
        if bad.any():
            raise InputError(
                f"column {sampling_prob_column!r}: gold row {int(np.flatnonzero(bad)[0])} has no "
                "sampling probability; every gold row needs the probability it was chosen with."
            )
    clusters = (
        df[cluster_column].astype("string").fillna("<NA>").to_numpy() if cluster_column else None
    )
    gold_numeric = True
    if outcome in ("auto", "mean", "proportions") and not formula:
        gold_numeric = _check_value_types(df, prep, labeled)
    if outcome == "auto":
        if formula:
            outcome = "ols"
        else:
            outcome = "proportions" if (not gold_numeric or _prob_columns(df)) else "mean"
    if outcome == "proportions":
        _check_class_values(df, prep.gold_cols[0], labeled, prep.source)
    common: dict[str, Any] = {
        "sampling_prob": pi,
        "clusters": clusters,
        "method": method,
        "level": level,
        "random_state": random_state,
    }
    if formula is not None and outcome in ("mean", "proportions"):
        raise InputError(f"--formula needs --outcome ols or logit; got {outcome!r}.")
    if outcome == "mean" and len(prep.gold_cols) > 1:
        # one mean per (gold, prediction) pair, e.g. per-tag shares of a multi-label
        # model's p_<tag> columns against 0/1 gold columns
        parts = [
            estimate_mean(
                np.where(labeled, _numeric(df, g, "gold"), np.nan),
                _numeric(df, pc, "prediction"),
                **common,
            )
            for g, pc in zip(prep.gold_cols, prep.pred_cols, strict=True)
        ]
        return _stack_means(parts, list(prep.gold_cols))
    if outcome == "proportions" and len(prep.gold_cols) != 1:
        raise InputError(f"outcome {outcome!r} takes one gold and one prediction column.")
    gcol, pcol = prep.gold_cols[0], prep.pred_cols[0]
    if outcome == "mean":
        y = np.where(labeled, _numeric(df, gcol, "gold"), np.nan)
        yh = _numeric(df, pcol, "prediction")
        return estimate_mean(y, yh, **common)
    if outcome == "proportions":
        return _proportions(df, gcol, pcol, labeled, common)
    if formula is None:
        raise InputError(f"outcome {outcome!r} needs --formula, e.g. 'gold ~ x1 + x2'.")
    f = parse_formula(formula)
    miss = [v for v in f.variables if v not in df.columns]
    if miss:
        raise InputError(f"formula {formula!r}: " + missing_columns_message(miss, df.columns, data))
    pairs = dict(zip(prep.gold_cols, prep.pred_cols, strict=True))
    if not set(pairs) & set(f.variables):
        raise InputError(
            f"formula {formula!r} does not use the gold column(s) {', '.join(pairs)}; put the "
            "labeled variable in the formula (as outcome or covariate)."
        )

    def col(name: str, surrogate: bool) -> np.ndarray:
        if name in pairs:
            if surrogate:
                return _numeric(df, pairs[name], "prediction")
            return np.where(labeled, _numeric(df, name, "gold"), np.nan)
        v = _numeric(df, name, "covariate")
        if not np.all(np.isfinite(v)):
            i = int(np.flatnonzero(~np.isfinite(v))[0])
            raise InputError(f"covariate {name!r} is empty on row {i}; fill or drop such rows.")
        return v

    n = len(df)
    X = np.column_stack(
        ([np.ones(n)] if f.intercept else []) + [col(c, False) for c in f.covariates]
    )
    Xh = np.column_stack(
        ([np.ones(n)] if f.intercept else []) + [col(c, True) for c in f.covariates]
    )
    y = col(f.outcome, False)
    yh_r: np.ndarray | None = col(f.outcome, True) if f.outcome in pairs else None
    x_pred = any(c in pairs for c in f.covariates)
    return estimate_regression(
        y, X, yh_r, Xh if x_pred else None, model=outcome, labeled=labeled, names=f.terms, **common
    )


def _stack_means(parts: list[EstimateResult], terms: list[str]) -> EstimateResult:
    """One result whose terms are the gold columns of several single-mean estimates (each
    interval is valid for its own term; no correction for looking at several)."""
    from ._result import Interval

    def cat(get: Any) -> np.ndarray:
        return np.concatenate([np.asarray(get(r), dtype=np.float64).reshape(-1) for r in parts])

    def interval(get: Any) -> Interval:
        return Interval(
            cat(lambda r: get(r).estimate),
            cat(lambda r: get(r).se),
            cat(lambda r: get(r).ci_low),
            cat(lambda r: get(r).ci_high),
        )

    first = parts[0]
    se_u = None
    if all(r.se_unlabeled is not None for r in parts):
        se_u = cat(lambda r: r.se_unlabeled)
    return EstimateResult(
        terms=terms,
        estimate=cat(lambda r: r.estimate),
        se=cat(lambda r: r.se),
        ci_low=cat(lambda r: r.ci_low),
        ci_high=cat(lambda r: r.ci_high),
        classical=interval(lambda r: r.classical),
        naive=interval(lambda r: r.naive),
        method=first.method,
        lam=cat(lambda r: r.lam),
        n_gold=first.n_gold,
        n_total=first.n_total,
        level=first.level,
        outcome="mean",
        warnings=[f"{t}: {w}" for t, r in zip(terms, parts, strict=True) for w in r.warnings],
        se_unlabeled=se_u,
    )


def _proportions(
    df: pd.DataFrame, gcol: str, pcol: str, labeled: np.ndarray, common: dict[str, Any]
) -> EstimateResult:
    # canonical keys: gold 1.0 (a float column with empty rows) and prediction 1 are one class
    gold_vals = pd.Series(canonical_labels(df[gcol][labeled])[0], dtype=object)
    pred_vals = df[pcol].where(~pd.Series(_empty(df[pcol]), index=df.index))
    has_pred = pred_vals.notna().to_numpy()
    pred_keys = np.full(len(df), None, dtype=object)
    pred_keys[has_pred] = canonical_labels(pred_vals[has_pred])[0]
    pred_vals = pd.Series(pred_keys, index=df.index, dtype=object)
    probs = _prob_columns(df)
    prob_classes = [c[len(_PROB_PREFIX) :] for c in probs]
    classes = sorted(set(gold_vals) | set(pred_vals.dropna().astype(str)) | set(prob_classes))
    code = {c: i for i, c in enumerate(classes)}
    y = np.full(len(df), -1, dtype=np.int64)
    y[labeled] = gold_vals.map(code).to_numpy()
    if probs and set(classes) <= set(prob_classes):
        yh: np.ndarray = df[[_PROB_PREFIX + c for c in classes]].to_numpy(dtype=float, copy=True)
        if np.isnan(yh).any():
            rows = np.flatnonzero(np.isnan(yh).any(axis=1))
            yh[rows] = np.nan
    else:
        if probs:
            log.info("p_<class> columns do not cover every class; using hard labels from %s", pcol)
        yh = pred_vals.astype(str).map(code).astype(float).where(pred_vals.notna()).to_numpy()
    res = estimate_proportions(y, yh, n_classes=len(classes), class_names=classes, **common)
    res.extra["gold_check"] = _gold_check(y, yh, labeled, len(classes))
    return res


def _gold_check(y: np.ndarray, yh: np.ndarray, labeled: np.ndarray, k: int) -> dict[str, Any]:
    """How well the predictions match the gold rows: accuracy, and a reliability diagram
    when the predictions are probabilities (for the report; not used by the estimate)."""
    from ..calibrate import reliability_diagram

    rows = np.flatnonzero(labeled & (y >= 0))
    out: dict[str, Any] = {"n": int(len(rows)), "accuracy": None, "reliability": None}
    if yh.ndim == 2:
        ok = rows[np.isfinite(yh[rows]).all(axis=1)]
        if len(ok):
            p = np.clip(yh[ok], 0.0, None)
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
            out["accuracy"] = float((p.argmax(axis=1) == y[ok]).mean())
            if len(ok) >= 20:
                d = reliability_diagram(p.astype(np.float32), y[ok], n_bins=10)
                out["reliability"] = d.to_dict()
    else:
        ok = rows[np.isfinite(yh[rows])]
        if len(ok):
            out["accuracy"] = float((yh[ok].astype(np.int64) == y[ok]).mean())
    return out


# --------------------------------------------------------------------------- plan / select
def plan(
    data: str | Path | pd.DataFrame,
    *,
    target_width: float | None = None,
    power: float | None = None,
    effect: float | None = None,
    **estimate_kwargs: Any,
) -> GoldPlan:
    """Gold labels needed for a target CI width or power, from a pilot gold sample.

    Takes the arguments of :func:`estimate` (the pilot's gold rows are the labeled
    ones) plus ``target_width`` or ``power`` (and ``effect``); see :func:`plan_gold`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pilot = estimate(data, **estimate_kwargs)
    return plan_gold(pilot, target_width=target_width, power=power, effect=effect)


def select(
    data: str | Path | pd.DataFrame,
    budget: int,
    *,
    prediction_column: str = "label",
    item_column: str = "item_id",
    uncertainty_column: str | None = None,
    floor: float | str = "auto",
    random_state: RandomState = 0,
) -> pd.DataFrame:
    """Choose items for human labeling under the active design.

    Uncertainty comes from ``uncertainty_column`` when given, else from the
    ``p_<class>`` probabilities, else from ``prediction_column`` when it holds
    probabilities in [0, 1]; with hard labels only the design is uniform.

    Returns
    -------
    DataFrame
        Every row: ``item_id``, ``sampling_prob``, ``selected`` (bool) and an
        empty ``gold`` column to fill in for the selected rows.
    """
    df = read_table(data)
    if item_column not in df.columns:
        raise InputError(missing_columns_message([item_column], df.columns, data))
    n = len(df)
    if not (isinstance(budget, int | np.integer) and 0 < budget <= n):
        raise InputError(f"--select must be between 1 and the number of rows ({n}); got {budget}.")
    if uncertainty_column:
        if uncertainty_column not in df.columns:
            raise InputError(missing_columns_message([uncertainty_column], df.columns, data))
        u = _numeric(df, uncertainty_column, "uncertainty")
    elif _prob_columns(df):
        u = prediction_uncertainty(df[_prob_columns(df)].fillna(0).to_numpy(dtype=float))
    else:
        pv = (
            pd.to_numeric(df[prediction_column], errors="coerce")
            if (prediction_column in df.columns)
            else pd.Series(np.nan, index=df.index)
        )
        if pv.notna().all() and pv.between(0, 1).all() and not pv.isin([0, 1]).all():
            u = prediction_uncertainty(pv.to_numpy(dtype=float))
        else:
            warnings.warn(
                "no probabilities or --uncertainty-column found; selecting uniformly at random.",
                UserWarning,
                stacklevel=2,
            )
            u = np.ones(n)
    chosen, pi = select_gold(u, float(budget), floor=floor, random_state=random_state)
    return pd.DataFrame(
        {
            item_column: df[item_column].to_numpy(),
            "sampling_prob": pi,
            "selected": chosen,
            "gold": pd.Series([None] * n, dtype="object"),
        }
    )


# --------------------------------------------------------------------------- run folder
@dataclass
class EstimateRun:
    """What :func:`write_estimate_run` published."""

    result: EstimateResult
    out: Path


def render_report(result: EstimateResult, title: str = "Valid estimate") -> str:
    """The estimate's ``report.html`` (see :mod:`truelabel.estimate._report`)."""
    from ._report import render_estimate_report

    return render_estimate_report(result, title)


def write_estimate_run(
    result: EstimateResult,
    out: str | Path,
    *,
    overwrite: bool = False,
    meta: dict[str, Any] | None = None,
) -> EstimateRun:
    """Publish ``estimate.json`` and ``report.html`` into the run folder ``out``."""
    from ..report import write_report

    with RunDir(out, kind="estimate", overwrite=overwrite, meta=meta) as run:
        run.write_json("estimate.json", result.to_dict())
        write_report(run, render_report(result))
    return EstimateRun(result, Path(out))
