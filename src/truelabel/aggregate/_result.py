"""The high-level API: votes in, one posterior per item and source quality out."""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ConvergenceWarning, InputError
from .._progress import progress
from .._types import Float32Array, IntArray
from ..report import ReportMixin
from ..sources._lf_io import read_lf_votes
from ..sources._numeric import (
    LABEL_TYPES,
    NumericVotes,
    detect_label_type,
    numeric_votes_from_table,
)
from ..sources._votes import VoteArrays, check_votes, votes_from_table, with_abstain_votes
from ..sources._wrench import is_wrench_file
from ._auto import METHODS, AutoChoice, make_label_model, select_label_model
from ._base import BaseLabelModel, _clamp, _combined_gold
from ._calibrate import UNIFORM_MIX, calibrated_posterior, reported_temperature
from ._features import FeatureDawidSkene
from ._majority import MajorityVote, WeightedVote
from ._numeric import NUMERIC_METHODS
from ._numeric_result import NumericAggregateResult, aggregate_numeric_votes
from ._quality import SOURCE_PSEUDO_VOTES, krippendorff_alpha, source_quality
from ._result_common import result_facts, result_repr

__all__ = ["AggregateResult", "aggregate", "aggregate_votes", "write_aggregate_run"]

logger = logging.getLogger(__name__)


@dataclass(repr=False)
class AggregateResult(ReportMixin):
    """What aggregation produced.

    Attributes
    ----------
    posterior : ndarray of shape (n_items, n_classes), float32
        Rows in ``item_ids`` order; columns in ``classes`` order.
    classes : ndarray of shape (n_classes,)
    item_ids : ndarray of shape (n_items,)
    labels : DataFrame
        ``item_id``, ``label``, ``confidence``, ``n_votes``, ``no_votes`` (flag),
        ``is_gold``, then ``p_<class>`` per class.
    sources : DataFrame
        One row per source: votes, coverage, estimated accuracy, agreement with the
        consensus, spammer score, gold accuracy; sorted worst first by estimated accuracy.
    summary : dict
        Method (and why), counts, Krippendorff's alpha, warnings, timings.
    model : BaseLabelModel
        The fitted label model (``confusion_`` per source).
    votes : VoteArrays
    """

    posterior: Float32Array
    classes: np.ndarray
    item_ids: np.ndarray
    labels: pd.DataFrame
    sources: pd.DataFrame
    summary: dict[str, Any]
    model: BaseLabelModel
    votes: VoteArrays
    confusion: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def __repr__(self) -> str:
        return result_repr("AggregateResult", self.summary, f", n_classes={len(self.classes)}")

    def _render_report(self) -> str:
        from ._report import render_report_page

        return render_report_page(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        s = self.summary
        return result_facts(
            s,
            [
                ("classes", ", ".join(str(c) for c in list(self.classes)[:12])),
                ("Krippendorff's alpha", s.get("krippendorff_alpha")),
                ("mean confidence", s.get("mean_confidence")),
            ],
        )

    def _repr_frame(self) -> tuple[str, Any]:
        cols = [c for c in ("item_id", "label", "confidence", "n_votes") if c in self.labels]
        return "labels", self.labels[cols]

    def save(
        self, out: str | Path, *, overwrite: bool = False, meta: dict[str, Any] | None = None
    ) -> Path:
        """Write ``labels.parquet``, ``sources.parquet``, ``summary.json``, ``report.html``.

        Parameters
        ----------
        out : path
            Run directory (published atomically through :class:`truelabel.io.RunDir`).
        overwrite : bool
            Replace a non-empty folder that is not a previous run.
        meta : dict, optional
            Extra fields for ``run.json`` (e.g. the command options).

        Returns
        -------
        Path of the published folder.
        """
        return write_aggregate_run(
            out,
            labels=self.labels,
            sources=self.sources,
            summary=self.summary,
            report_html=self._render_report(),
            arrays={"confusion.npy": np.asarray(self.confusion, dtype=np.float32)},
            overwrite=overwrite,
            meta=meta,
        )


def write_aggregate_run(
    out: str | Path,
    *,
    labels: pd.DataFrame,
    sources: pd.DataFrame,
    summary: dict[str, Any],
    report_html: str,
    arrays: dict[str, np.ndarray] | None = None,
    tables: dict[str, pd.DataFrame] | None = None,
    overwrite: bool = False,
    meta: dict[str, Any] | None = None,
) -> Path:
    """The one writer of an ``aggregate`` run folder (class, numeric or span labels).

    Writes ``labels.parquet``, ``sources.parquet``, ``summary.json``, ``report.html``, any
    ``arrays`` (``name.npy``) and extra ``tables`` (``name.parquet``) atomically through
    :class:`truelabel.io.RunDir`.
    """
    from ..io import RunDir
    from ..report import write_report

    labels = labels.copy()
    labels["item_id"] = _plain_column(labels["item_id"])
    labels["label"] = _plain_column(labels["label"])
    with RunDir(out, kind="aggregate", overwrite=overwrite, meta=meta) as run:
        run.write_parquet("labels.parquet", labels)
        run.write_parquet("sources.parquet", sources)
        run.write_json("summary.json", summary)
        for name, arr in (arrays or {}).items():
            run.write_npy(name, arr)
        for name, df in (tables or {}).items():
            run.write_parquet(name, df)
        write_report(run, report_html)
    return Path(out)


def _plain_column(s: pd.Series) -> pd.Series:
    """Object columns holding only ints (or only numbers, or else strings) as a parquet type.

    Decided by pandas' C-level ``infer_dtype`` (one pass, no Python loop over rows).
    """
    if s.dtype != object:
        return s
    kind = pd.api.types.infer_dtype(s, skipna=False)
    if kind == "integer":
        return s.astype(np.int64)
    if kind in ("floating", "mixed-integer-float", "boolean"):
        return s.astype(np.float64)
    return s.astype(str)


def _class_col(c: Any) -> str:
    return f"p_{c}"


def aggregate_votes(
    votes: VoteArrays,
    *,
    method: str = "auto",
    features: Any = None,
    gold: IntArray | None = None,
    random_state: Any = 0,
    params: dict[str, Any] | None = None,
    model_abstain: bool | None = None,
    class_prior: Any = None,
    calibrate: bool = True,
) -> AggregateResult:
    """Aggregate coded votes into one posterior per item and a source-quality table.

    Parameters
    ----------
    votes : VoteArrays
        From :func:`truelabel.sources.votes_from_table` and friends.
    method : str, default "auto"
        ``auto``, ``mv``, ``wawa``, ``ds``, ``ds_pooled``, ``onecoin``, ``mace``, ``features``,
        ``best_source`` or ``mc`` (matrix completion; not an ``auto`` candidate). ``auto`` chooses by gold agreement (20+ gold items) or held-out vote likelihood
        and records why in ``summary["method_reason"]``.
    features : ndarray or sparse matrix of shape (n_items, n_features), optional
        Item features in ``votes.item_ids`` order; enables ``features``.
    gold : ndarray of shape (n_items,), int, optional
        Gold class codes (-1 = none), combined with gold-source votes; gold items are
        clamped.
    random_state : int, Generator or None
    params : dict, optional
        Hyperparameters for the chosen label model.
    model_abstain : bool, optional
        Treat "did not vote" as an answer of each source (right for labeling functions
        and LLMs, which see every item; wrong for crowds). Default: True for votes from
        a wide matrix (:func:`~truelabel.sources.votes_from_matrix`, labeling functions),
        False for long tables.
    class_prior : array-like of shape (n_classes,), optional
        A fixed class prior for every label model (e.g. the class shares of a labelled
        validation split; Snorkel's ``class_balance``). Default: estimated.
    calibrate : bool, default True
        Report the tempered posterior ``softmax((ll + lp) / T)`` of the fitted model, with
        ``T`` chosen on held-out votes (or held-out gold), instead of the raw one. The most
        likely label of every item is unchanged; the raw posterior stays in
        ``model.posterior_``. See ``summary["temperature"]``.

    Returns
    -------
    AggregateResult
        ``posterior`` rows follow ``votes.item_ids``.
    """
    votes = check_votes(votes)
    t0 = time.perf_counter()
    g = _combined_gold(votes, gold)
    plain = votes.without_gold()
    if plain.n_votes == 0:
        raise InputError(
            "there are no votes besides gold labels; aggregation needs at least one source."
        )
    if method != "auto" and method not in METHODS:
        raise InputError(
            f"unknown method {method!r}; choose one of auto, " + ", ".join(sorted(METHODS)) + "."
        )
    if method in ("features",) and features is None:
        raise InputError(
            "method 'features' needs item features: pass --data with --text-column (or "
            "features=), or choose another method."
        )
    notes: list[str] = []
    if model_abstain is None:
        model_abstain = bool(votes.info.get("abstain_informative", False))
    fit_votes = with_abstain_votes(votes) if model_abstain else votes
    choice: AutoChoice | None = None
    if method == "auto" or calibrate:
        with progress("choose the label model" if method == "auto" else "calibrate the posterior"):
            choice = select_label_model(
                fit_votes,
                gold=gold,
                features=features,
                random_state=random_state,
                class_prior=class_prior,
                candidates=None if method == "auto" else (method,),
            )
        chosen = choice.method
        logger.info("auto chose %s: %s", chosen, choice.reason)
    else:
        chosen = method
    t_sel = time.perf_counter() - t0
    model_params = dict(params or {})
    if class_prior is not None:
        model_params["class_prior"] = class_prior
    model = make_label_model(chosen, random_state=random_state, **model_params)
    with warnings.catch_warnings(record=True) as caught, progress(f"fit {chosen}"):
        warnings.simplefilter("always", ConvergenceWarning)
        if isinstance(model, FeatureDawidSkene):
            model.fit(fit_votes, gold, features=features)
        else:
            model.fit(fit_votes, gold)
    for w in caught:
        notes.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    t_fit = time.perf_counter() - t0 - t_sel
    post = np.asarray(model.posterior_, dtype=np.float32)
    temperature = 1.0
    if calibrate and choice is not None:
        from_gold = choice.criterion == "gold_accuracy"
        counting = isinstance(model, MajorityVote | WeightedVote)
        temperature = reported_temperature(
            choice.temperature, counting=counting, from_gold=from_gold
        )
        ll, lp = model._log_scores(fit_votes.without_gold())
        post = calibrated_posterior(
            ll, lp, choice.temperature, counting=counting, from_gold=from_gold
        )
        post = _clamp(post, g).astype(np.float32)
    nv = np.bincount(plain.item, minlength=votes.n_items)
    no_votes = (nv == 0) & (g < 0)
    if no_votes.any():
        notes.append(
            f"{int(no_votes.sum())} items have no votes; their posterior is the class prior "
            "(flagged in labels.no_votes)."
        )
    src_counts = np.bincount(plain.source, minlength=votes.n_sources)
    active = np.flatnonzero((src_counts > 0) & ~votes.is_gold_source)
    if len(active) == 1:
        notes.append(
            f"only one source ({votes.source_names[active[0]]!s}) voted; the posterior repeats its "
            "votes and source quality cannot be estimated from agreement."
        )
    one_vote = np.flatnonzero(src_counts == 1)
    if len(one_vote):
        notes.append(
            f"{len(one_vote)} sources cast a single vote; their quality estimates rest on one "
            f"item (estimated accuracy smoothed toward the average with {SOURCE_PSEUDO_VOTES:g} "
            "pseudo-votes)."
        )
    classes = np.asarray(votes.classes)
    hard = np.argmax(post, axis=1)
    labels = pd.DataFrame(
        {
            "item_id": votes.item_ids,
            "label": classes[hard],
            "confidence": post[np.arange(len(post)), hard],
            "n_votes": nv.astype(np.int64),
            "no_votes": no_votes,
            "is_gold": g >= 0,
        }
    )
    for j, c in enumerate(classes):
        labels[_class_col(c)] = post[:, j]
    k = votes.n_classes
    conf = np.asarray(model.confusion_, dtype=np.float64)[:, :, :k]
    conf = conf / np.clip(conf.sum(axis=2, keepdims=True), 1e-12, None)
    q = source_quality(votes, post, conf, g if (g >= 0).any() else None)
    if model_abstain:
        q["abstain_rate"] = 1.0 - np.bincount(plain.source, minlength=votes.n_sources) / max(
            votes.n_items, 1
        )
    sources = (
        pd.DataFrame(q).sort_values("estimated_accuracy", kind="stable").reset_index(drop=True)
    )
    alpha = krippendorff_alpha(votes)
    summary: dict[str, Any] = {
        "method": chosen,
        "method_requested": method,
        "method_criterion": choice.criterion if method == "auto" and choice else "requested",
        "method_reason": choice.reason
        if method == "auto" and choice
        else f"method {chosen!r} was requested",
        "method_scores": choice.scores if method == "auto" and choice else {},
        "method_candidates": choice.candidates if method == "auto" and choice else {},
        "temperature": float(temperature),
        "posterior": (
            (
                f"calibrated: tempered with T = {temperature:.3g} fitted on held-out gold"
                if choice.criterion == "gold_accuracy"
                else f"calibrated: tempered with T = {temperature:.3g} "
                f"({temperature / choice.temperature:g} x the held-out-vote temperature "
                f"{choice.temperature:.3g}) and mixed with {UNIFORM_MIX:g} of the uniform "
                "distribution"
            )
            if calibrate and choice is not None
            else "raw (calibrate=False)"
        ),
        "n_items": votes.n_items,
        "n_sources": int(len(active)),
        "n_gold_sources": int(votes.is_gold_source.sum()),
        "n_votes": plain.n_votes,
        "n_classes": votes.n_classes,
        "classes": [str(c) for c in classes],
        "n_gold_items": int((g >= 0).sum()),
        "n_items_without_votes": int(no_votes.sum()),
        "mean_votes_per_item": float(plain.n_votes / max(votes.n_items, 1)),
        "krippendorff_alpha": alpha,
        "prior": dict(
            zip([str(c) for c in classes], np.asarray(model.prior_, dtype=float), strict=True)
        ),
        "label_counts": dict(
            zip(
                [str(c) for c in classes],
                np.bincount(hard, minlength=len(classes)).tolist(),
                strict=True,
            )
        ),
        "mean_confidence": float(post.max(axis=1).mean()) if len(post) else float("nan"),
        "abstain_modelled": bool(model_abstain),
        "class_prior_fixed": class_prior is not None,
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "log_likelihood": float(model.log_likelihood_),
        "notes": notes,
        "input": dict(votes.info),
        "seconds": {"select": round(t_sel, 4), "fit": round(t_fit, 4)},
    }
    if (g >= 0).any():
        gi = np.flatnonzero((g >= 0) & (nv > 0))
        summary["gold_items_with_votes"] = int(len(gi))
    return AggregateResult(
        posterior=post,
        classes=classes,
        item_ids=np.asarray(votes.item_ids),
        labels=labels,
        sources=sources,
        summary=summary,
        model=model,
        votes=votes,
        confusion=conf.astype(np.float32),
    )


def aggregate(
    votes: str | Path | pd.DataFrame | VoteArrays,
    *,
    item_column: str = "item_id",
    source_column: str = "source",
    label_column: str = "label",
    weight_column: str | None = None,
    method: str = "auto",
    gold: str | Path | pd.DataFrame | None = None,
    gold_item_column: str | None = None,
    gold_label_column: str | None = None,
    data: str | Path | pd.DataFrame | None = None,
    data_item_column: str | None = None,
    text_column: str | None = None,
    features: Any = None,
    featurizer: str = "auto",
    classes: list[Any] | None = None,
    ignore_unknown: bool = False,
    random_state: Any = 0,
    params: dict[str, Any] | None = None,
    class_prior: Any = None,
    calibrate: bool = True,
    label_type: str = "auto",
    interval_level: float = 0.95,
    lfs: str | Path | None = None,
    engine: Any = "local",
) -> AggregateResult | NumericAggregateResult:
    """Turn a votes table into the most likely label of every item and source quality.

    Parameters
    ----------
    votes : path, DataFrame or VoteArrays
        The long table ``(item, source, label[, weight])``.
    item_column, source_column, label_column, weight_column : str
        Column names in ``votes``.
    method : str, default "auto"
        ``auto``, ``mv``, ``wawa``, ``ds``, ``ds_pooled``, ``onecoin``, ``mace``, ``features``
        or ``mc``.
    gold : path or DataFrame, optional
        Gold labels (clamped; they drive the source estimates and ``auto``).
    gold_item_column, gold_label_column : str, optional
        Default ``item_column`` / ``label_column``.
    data : path or DataFrame, optional
        The items: every row is kept (items without votes get the prior and are
        flagged); votes for ids not in it are refused unless ``ignore_unknown``.
    data_item_column : str, optional
        Item id column of ``data``; default ``item_column`` if present, else ``item_id``.
    text_column : str, optional
        Text column of ``data``, featurized to enable the ``features`` model.
    features : array of shape (n_data_rows, n_features), optional
        Precomputed features for the rows of ``data``.
    featurizer : str
        Passed to :func:`truelabel.featurize` for ``text_column``.
    classes : list, optional
        Class list (default: sorted labels in the votes).
    ignore_unknown : bool
        Drop votes for items not in ``data`` instead of refusing.
    random_state : int, Generator or None
    params : dict, optional
        Label-model hyperparameters.
    class_prior : array-like, dict or str, optional
        A fixed class prior: one weight per class in class order, a dict
        ``{class name: weight}``, or the string ``"ham=0.87,spam=0.13"`` (missing
        classes get 0; weights are normalised). Default: estimated.
    calibrate : bool, default True
        Report the posterior tempered on held-out votes (see :func:`aggregate_votes`).
    label_type : {"auto", "categorical", "numeric"}
        ``auto`` treats the labels as numbers when every label is a number and they are
        fractional or many distinct integers (:func:`truelabel.sources.detect_label_type`;
        the reason is in ``summary["label_type_reason"]``), else as classes.
    interval_level : float, default 0.95
        Coverage of the per-item intervals of numeric labels.
    lfs : path, optional
        A Python file of labeling functions: ``votes`` is then the data table the rules
        run on (items = its rows, ids from ``item_column`` when present), and their votes
        are aggregated with abstaining modelled as an answer. ``votes`` may also be a
        WRENCH split (``.json`` with ``weak_labels``), read without ``lfs``; its own labels
        are not used to fit, only reported against.
    engine : str or Engine, default "local"
        Where ``lfs`` run (``dask`` = on a Dask cluster; same votes).

    Returns
    -------
    AggregateResult or NumericAggregateResult
        A :class:`NumericAggregateResult` when the labels are numbers (``label_type``
        ``numeric``, or ``auto`` found them numeric): same run files, numeric columns.
    """
    if label_type not in LABEL_TYPES:
        raise InputError(
            f"unknown label type {label_type!r}; choose one of {', '.join(LABEL_TYPES)}."
        )
    if isinstance(votes, NumericVotes):
        return aggregate_numeric_votes(votes, method=method, params=params, level=interval_level)
    class_note = ""
    lf_input = lfs is not None or (isinstance(votes, str | Path) and is_wrench_file(votes))
    if lf_input:
        return _aggregate_lf_input(
            votes,  # type: ignore[arg-type]
            lfs=lfs,
            engine=engine,
            item_column=item_column,
            classes=classes,
            gold=gold,
            text_column=text_column,
            featurizer=featurizer,
            method=method,
            random_state=random_state,
            params=params,
            class_prior=class_prior,
        )
    if not isinstance(votes, VoteArrays) and label_type != "categorical":
        from ..io import read_table

        where = str(votes) if not isinstance(votes, pd.DataFrame) else "votes"
        table = read_table(votes)
        kind, why = _label_type(
            table, label_type, label_column, method, classes, class_prior, text_column, features
        )
        if kind == "numeric":
            return _aggregate_numeric_table(
                table,
                where=where,
                item_column=item_column,
                source_column=source_column,
                label_column=label_column,
                method=method,
                gold=gold,
                gold_item_column=gold_item_column,
                gold_label_column=gold_label_column,
                data=data,
                data_item_column=data_item_column,
                ignore_unknown=ignore_unknown,
                params=params,
                interval_level=interval_level,
                reason=why,
                detected=label_type == "auto" and method not in NUMERIC_METHODS,
            )
        votes = table
        if "--label-type numeric" in why:  # integer codes that may be ratings: say so
            class_note = f"labels treated as classes: {why}."
    items = None
    X = features
    if data is not None:
        ddf, items = _read_data(data, data_item_column, item_column)
        if text_column is not None:
            if text_column not in ddf.columns:
                raise InputError(
                    f"data: no column {text_column!r}; the columns are {list(ddf.columns)[:20]!r}."
                )
            from ..featurize import featurize

            X = featurize(ddf[text_column].fillna("").astype(str).tolist(), method=featurizer)
    elif text_column is not None:
        raise InputError("--text-column needs --data (the table holding the texts).")
    if X is not None and items is not None and X.shape[0] != len(items):
        raise InputError(f"features have {X.shape[0]} rows but data has {len(items)} rows.")
    if isinstance(votes, VoteArrays):
        va = votes
    else:
        va = votes_from_table(
            votes,
            name=where if label_type != "categorical" else None,
            item_column=item_column,
            source_column=source_column,
            label_column=label_column,
            weight_column=weight_column,
            classes=classes,
            items=items,
            ignore_unknown=ignore_unknown,
            gold=gold,
            gold_item_column=gold_item_column,
            gold_label_column=gold_label_column,
        )
    if X is not None and X.shape[0] != va.n_items:
        raise InputError(
            f"features have {X.shape[0]} rows but there are {va.n_items} items; pass --data so the "
            "items follow its rows."
        )
    res = aggregate_votes(
        va,
        method=method,
        features=X,
        random_state=random_state,
        params=params,
        class_prior=_class_prior(class_prior, va),
        calibrate=calibrate,
    )
    if class_note:
        res.summary["notes"].insert(0, class_note)
    return res


def _class_prior(prior: Any, votes: VoteArrays) -> Any:
    """``class_prior`` as given to :func:`aggregate` -> weights in the votes' class order."""
    if isinstance(prior, str):
        prior = _parse_prior(prior)
    if isinstance(prior, dict):
        prior = _prior_from_names(prior, votes)
    return prior


def _aggregate_lf_input(
    data: str | Path | pd.DataFrame,
    *,
    lfs: str | Path | None,
    engine: Any,
    item_column: str,
    classes: list[Any] | None,
    gold: Any,
    text_column: str | None,
    featurizer: str,
    method: str,
    random_state: Any,
    params: dict[str, Any] | None,
    class_prior: Any,
) -> AggregateResult:
    """The labeling-function branch of :func:`aggregate`: a WRENCH split, or rules + data."""
    from ..io import read_table

    if gold is not None:
        raise InputError(
            "--gold works with a long votes table; with --lfs or a WRENCH split, put the gold "
            "labels in the data (lf analyze --gold-column reports LF accuracy)."
        )
    table: Any = data
    item_col = None
    if lfs is not None:
        table = read_table(data)
        item_col = item_column if item_column in table.columns else None
    lv = read_lf_votes(table, lfs=lfs, classes=classes, item_column=item_col, engine=engine)
    X = None
    if text_column is not None:
        if text_column not in lv.data.columns:
            raise InputError(
                f"no column {text_column!r}; the columns are {list(lv.data.columns)[:20]!r}."
            )
        from ..featurize import featurize

        X = featurize(lv.data[text_column].fillna("").astype(str).tolist(), method=featurizer)
    res = aggregate_votes(
        lv.votes,
        method=method,
        features=X,
        random_state=random_state,
        params=params,
        class_prior=_class_prior(class_prior, lv.votes),
    )
    res.summary["input"]["kind"] = lv.kind
    if lv.gold is not None and (lv.gold >= 0).any():
        has = lv.gold >= 0
        acc = float((res.model.labels_[has] == lv.gold[has]).mean())
        res.summary["accuracy_vs_file_labels"] = acc
        res.summary["notes"].append(
            f"the file's own labels (not used to fit) agree with {acc:.1%} of the "
            f"{int(has.sum())} labelled items."
        )
    return res


def _parse_prior(text: str) -> dict[str, float]:
    """``"ham=0.87,spam=0.13"`` -> ``{"ham": 0.87, "spam": 0.13}``."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, weight = part.rpartition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(weight)
        except ValueError:
            raise InputError(
                f"class prior {text!r}: cannot read {part.strip()!r}; write class=weight pairs "
                "separated by commas, e.g. 'ham=0.87,spam=0.13'."
            ) from None
    return out


def _prior_from_names(prior: dict[Any, float], votes: VoteArrays) -> np.ndarray:
    """``{class name: weight}`` -> weights in the votes' class order."""
    names = {str(c): j for j, c in enumerate(votes.classes)}
    unknown = [str(c) for c in prior if str(c) not in names]
    if unknown:
        raise InputError(
            f"class_prior names classes {unknown} that are not in the votes; the classes are "
            f"{list(names)}."
        )
    out = np.zeros(votes.n_classes)
    for c, w in prior.items():
        out[names[str(c)]] = float(w)
    return out


def _read_data(
    data: Any, data_item_column: str | None, item_column: str
) -> tuple[pd.DataFrame, list[Any]]:
    """The ``--data`` table and its item ids, in row order."""
    from ..io import read_table

    ddf = read_table(data)
    col = data_item_column or (item_column if item_column in ddf.columns else "item_id")
    if col not in ddf.columns:
        raise InputError(
            f"data: no item id column {col!r}; the columns are {list(ddf.columns)[:20]!r}. "
            "Pass --data-item-column."
        )
    return ddf, list(ddf[col].tolist())


def _aggregate_numeric_table(
    table: pd.DataFrame,
    *,
    where: str,
    item_column: str,
    source_column: str,
    label_column: str,
    method: str,
    gold: Any,
    gold_item_column: str | None,
    gold_label_column: str | None,
    data: Any,
    data_item_column: str | None,
    ignore_unknown: bool,
    params: dict[str, Any] | None,
    interval_level: float,
    reason: str,
    detected: bool,
) -> NumericAggregateResult:
    """The numeric branch of :func:`aggregate` for a votes table already read."""
    items = _read_data(data, data_item_column, item_column)[1] if data is not None else None
    nv = numeric_votes_from_table(
        table,
        item_column=item_column,
        source_column=source_column,
        label_column=label_column,
        items=items,
        ignore_unknown=ignore_unknown,
        gold=gold,
        gold_item_column=gold_item_column,
        gold_label_column=gold_label_column,
        name=where,
    )
    return aggregate_numeric_votes(
        nv,
        method=method,
        params=params,
        level=interval_level,
        label_type_reason=reason,
        detected=detected,
    )


def _label_type(
    table: pd.DataFrame,
    label_type: str,
    label_column: str,
    method: str,
    classes: Any,
    class_prior: Any,
    text_column: str | None,
    features: Any,
) -> tuple[str, str]:
    """Classes or numbers, and why: the one place :func:`aggregate` decides it.

    ``auto`` reads the labels (:func:`detect_label_type`) unless the options already say:
    a numeric method (``mean``, ``median``, ``bias_variance``) means numbers; a class
    model, a class list, a class prior or features mean classes.
    """
    if label_type == "numeric":
        return "numeric", "--label-type numeric was given"
    if method in NUMERIC_METHODS:
        return "numeric", f"--method {method} aggregates numbers"
    class_options = (method != "auto", classes is not None, class_prior is not None)
    if any(class_options) or text_column is not None or features is not None:
        return "categorical", "the options name a class model, classes or features"
    if label_column not in table.columns:
        return "categorical", "no label column to inspect"  # votes_from_table names it
    return detect_label_type(table[label_column])
