"""``truelabel.audit``: featurize → cross-fit → find and rank label issues, end to end."""

from __future__ import annotations

import logging
import platform
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._validation import check_pred_probs
from ..crossfit import check_foldable, cross_val_predict_proba
from ..io import Dataset, load_array, load_dataset
from ._result import AuditResult

__all__ = ["audit", "audit_dataset"]

logger = logging.getLogger(__name__)

StageCallback = Callable[[str, str], None]


class _Timer:
    def __init__(self, on_stage: StageCallback | None) -> None:
        self.times: dict[str, float] = {}
        self.on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_stage:
            self.on_stage(name, "start")
        t0 = time.perf_counter()
        yield
        self.times[name] = round(time.perf_counter() - t0, 4)
        logger.info("stage %s took %.2fs", name, self.times[name])
        if self.on_stage:
            self.on_stage(name, "done")


def audit(
    data: str | Path | pd.DataFrame,
    *,
    text: str | None = None,
    label: str | None = None,
    id: str | None = None,  # noqa: A002 - mirrors --id-column
    featurizer: str = "auto",
    vectors: str | None = None,
    vectors_file: str | Path | np.ndarray | None = None,
    pred_probs: str | Path | np.ndarray | None = None,
    folds: int = 5,
    seed: int = 0,
    end_model: str = "auto",
    drop_missing: bool = False,
    n_neighbors: int = 10,
    calibrate: bool = True,
    votes: str | Path | pd.DataFrame | None = None,
    vote_item_column: str = "item_id",
    vote_source_column: str = "source",
    vote_label_column: str = "label",
    vote_method: str = "auto",
    allow_new_classes: bool = False,
    on_stage: StageCallback | None = None,
) -> AuditResult:
    """Audit a label column: which items are probably mislabelled, and how noisy is each class.

    Parameters
    ----------
    data : path or DataFrame
        CSV, TSV, JSONL, Parquet or a DataFrame.
    text, label, id, vectors : str
        Column names. ``label`` is required unless ``votes`` is given; ``text`` unless
        ``pred_probs``, ``vectors`` or ``vectors_file`` is given; ``item_id`` is the ``id``
        column, else the 0-based row number.
    featurizer : {"auto", "minilm", "static", "tfidf"}
        How texts become vectors (``auto``: ``static`` above 200k rows, else ``minilm``).
    vectors_file : path or ndarray, optional
        ``.npy`` file (or an in-memory array) of shape (N, D): precomputed features, one
        row per data row.
    pred_probs : path to ``.npy`` or ndarray of shape (N, K), optional
        Your own out-of-sample probabilities (columns = sorted classes); skips cross-fitting.
        A ``.npy`` file is memory-mapped, not copied.
    folds : int
        K of the stratified K-fold cross-fitting.
    end_model : {"auto", "logistic", "ridge"}
        The cross-fitted model: multinomial logistic regression (most accurate), or
        closed-form ridge with a fitted temperature (many times faster). ``auto`` picks
        ridge with the ``static`` featurizer or above 200k rows, logistic otherwise.
    seed : int
        Seeds every random step; same input + seed → same output.
    drop_missing : bool
        Leave out rows with no label instead of refusing.
    n_neighbors : int
        Neighbours per item for the agreement score, outliers and the review view.
    calibrate : bool
        Temperature-scale the cross-fitted probabilities that the outputs report
        (``given_prob``, ``suggested_prob``, ``pred_probs.npy``), accounting for the label
        noise; flags and ranking use the raw cross-fitted probabilities. Probabilities you
        pass with ``pred_probs`` are reported as given.
    votes : path or DataFrame, optional
        Multi-source data: a long votes table ``(item, source, label)`` whose item ids are
        the data's ``item_id``. The votes are aggregated first (``vote_method``, see
        :func:`truelabel.aggregate`); without ``label`` the consensus label is audited.
        Adds ``consensus_label``, ``consensus_confidence`` and ``n_votes`` columns and a
        source table with suspect sources flagged (``sources.parquet``).
    vote_item_column, vote_source_column, vote_label_column : str
        Column names in ``votes``.
    vote_method : str
        Label model for the votes (``auto``, ``mv``, ``ds``, ``mace`` …).
    allow_new_classes : bool
        With ``label`` and ``votes``: accept votes in classes that no given label uses
        (they become extra classes of the consensus). By default such a vote is refused,
        naming the value and its rows: a source voting a class nobody else can agree
        with would otherwise look perfect on it.
    on_stage : callable(stage, "start"|"done"), optional
        Progress callback.

    Returns
    -------
    AuditResult
    """
    timer = _Timer(on_stage)
    with timer.stage("load"):
        needs_text = pred_probs is None and vectors is None and vectors_file is None
        if needs_text and not text:
            raise InputError(
                "a text column is required to featurize the items; pass --text-column NAME, "
                "or give --vectors-column/--pred-probs."
            )
        ds = load_dataset(
            data,
            text_column=text,
            label_column=label,
            id_column=id,
            vectors_column=vectors,
            vectors_file=vectors_file,
            drop_missing=drop_missing,
            require_labels=votes is None,
        )
        if label is None and votes is None:
            raise InputError("pass --label-column NAME (or --votes FILE for multi-source labels).")
        probs_arr: np.ndarray | None = None
        if pred_probs is not None:
            probs_arr = load_array(pred_probs) if isinstance(pred_probs, str | Path) else pred_probs
            name = str(pred_probs) if isinstance(pred_probs, str | Path) else "pred_probs"
            if len(ds.dropped_rows) and probs_arr.shape[0] == len(ds) + len(ds.dropped_rows):
                keep = np.setdiff1d(np.arange(probs_arr.shape[0]), ds.dropped_rows)
                probs_arr = np.asarray(probs_arr[keep])
            probs_arr = check_pred_probs(probs_arr, n_rows=len(ds), n_classes=None, name=name)
    consensus = None
    if votes is not None:
        with timer.stage("aggregate"):
            consensus = _consensus(
                ds,
                votes,
                vote_item_column,
                vote_source_column,
                vote_label_column,
                vote_method,
                seed,
                allow_new_classes=allow_new_classes,
            )
    result = audit_dataset(
        ds,
        featurizer=featurizer,
        pred_probs=probs_arr,
        folds=folds,
        seed=seed,
        end_model=end_model,
        n_neighbors=n_neighbors,
        calibrate=calibrate,
        timer=timer,
    )
    if consensus is not None:
        _attach_consensus(result, ds, consensus)
    return result


#: A source is suspect when its answers barely depend on the true class (spammer score
#: above this) or it agrees with the consensus less often than this.
SUSPECT_SPAMMER_SCORE = 0.7
SUSPECT_AGREEMENT = 0.5


def _consensus(
    ds: Dataset,
    votes: str | Path | pd.DataFrame,
    item_column: str,
    source_column: str,
    label_column: str,
    method: str,
    seed: int,
    *,
    allow_new_classes: bool = False,
) -> dict[str, Any]:
    """Aggregate the votes and align the posterior with the data's items.

    Vote labels are coded by the same rule as everywhere (``1 == 1.0 == "1"``); with a
    label column they must be among its classes unless ``allow_new_classes``.
    """
    from ..aggregate import AggregateResult, aggregate

    given = ds.classes if ds.labels is not None and not allow_new_classes else None
    try:
        agg = aggregate(
            votes,
            item_column=item_column,
            source_column=source_column,
            label_column=label_column,
            method=method,
            random_state=seed,
            ignore_unknown=False,
            classes=list(given) if given is not None else None,
            label_type="categorical",
        )
    except InputError as exc:
        if given is None or "are not one of the" not in str(exc):
            raise
        raise InputError(
            f"{exc} The votes use a class that no label in the label column uses; fix the "
            "votes, or pass --allow-new-classes (allow_new_classes=True) to add it."
        ) from None
    if not isinstance(agg, AggregateResult):  # label_type="categorical" never gives numbers
        raise InputError("audit --votes needs class labels; these votes are numbers.")
    pos = pd.Index(np.asarray(agg.item_ids).astype(str)).get_indexer(
        np.asarray(ds.item_id).astype(str)
    )
    unknown = np.setdiff1d(np.asarray(agg.item_ids).astype(str), np.asarray(ds.item_id).astype(str))
    if len(unknown):
        raise InputError(
            f"{len(unknown)} items in the votes are not in the data (e.g. {str(unknown[0])!r}); vote "
            "item ids must be the data's --id-column values (or row numbers without one)."
        )
    has_votes = pos >= 0
    post = np.asarray(agg.posterior)
    classes = list(agg.classes.tolist())
    codes = post.argmax(axis=1)
    hard = np.asarray(agg.classes, dtype=object)[codes]
    cons_label = np.full(len(ds), None, dtype=object)
    cons_label[has_votes] = hard[pos[has_votes]]
    cons_conf = np.full(len(ds), np.nan, dtype=np.float32)
    cons_conf[has_votes] = post[pos[has_votes]].max(axis=1)
    n_votes = np.zeros(len(ds), dtype=np.int64)
    n_votes[has_votes] = np.bincount(agg.votes.item, minlength=agg.votes.n_items)[pos[has_votes]]
    if ds.labels is None:
        if not has_votes.all():
            missing = np.flatnonzero(~has_votes)
            raise InputError(
                f"{len(missing)} items have no votes and there is no --label-column (e.g. item "
                f"{ds.item_id[missing[0]]!r}); add votes for them or pass a label column."
            )
        # the consensus is already coded in the votes' class list: no second coding
        ds.labels, ds.classes = codes[pos].astype(np.int64), classes
    sources = agg.sources.copy()
    sources["is_suspect"] = (~sources["is_gold"].astype(bool)) & (
        (sources["spammer_score"] > SUSPECT_SPAMMER_SCORE)
        | (sources["agreement"] < SUSPECT_AGREEMENT)
    )
    return {
        "label": cons_label,
        "confidence": cons_conf,
        "n_votes": n_votes,
        "sources": sources,
        "summary": agg.summary,
    }


def _attach_consensus(result: AuditResult, ds: Dataset, cons: dict[str, Any]) -> None:
    order = pd.Index(np.asarray(ds.item_id).astype(str)).get_indexer(
        result.issues["item_id"].astype(str)
    )
    result.issues["consensus_label"] = cons["label"][order]
    result.issues["consensus_confidence"] = cons["confidence"][order]
    result.issues["n_votes"] = cons["n_votes"][order]
    sources: pd.DataFrame = cons["sources"]
    result.extra["sources"] = sources
    result.summary["sources"] = {
        "label_model": cons["summary"].get("method"),
        "label_model_reason": cons["summary"].get("method_reason"),
        "krippendorff_alpha": cons["summary"].get("krippendorff_alpha"),
        "n_sources": int(len(sources)),
        "suspect_sources": sources.loc[sources["is_suspect"], "source"].astype(str).tolist(),
        "rule": f"spammer_score > {SUSPECT_SPAMMER_SCORE} or agreement with consensus < "
        f"{SUSPECT_AGREEMENT}",
    }


def audit_dataset(
    ds: Dataset,
    *,
    featurizer: str = "auto",
    pred_probs: np.ndarray | None = None,
    folds: int = 5,
    seed: int = 0,
    end_model: str = "auto",
    n_neighbors: int = 10,
    calibrate: bool = True,
    timer: _Timer | None = None,
    on_stage: StageCallback | None = None,
) -> AuditResult:
    """Audit a loaded :class:`~truelabel.io.Dataset` (see :func:`audit` for the options)."""
    from . import (
        class_health,
        class_imbalance,
        estimate_noise_matrices,
        find_label_issues,
        find_near_duplicates,
        find_outliers,
        get_label_quality,
        get_neighbor_agreement_scores,
        get_outlier_scores,
        nearest_neighbors,
    )

    timer = timer or _Timer(on_stage)
    if ds.labels is None:
        raise InputError("the audit needs a label column; pass --label-column NAME.")
    labels = ds.labels
    k = ds.n_classes
    if pred_probs is not None and pred_probs.shape[1] != k:
        raise InputError(
            f"pred_probs has {pred_probs.shape[1]} columns but the label column has {k} classes "
            f"({ds.class_names()[:10]}…); columns must follow the sorted class list."
        )

    X = None
    used_featurizer = None
    with timer.stage("featurize"):
        if ds.vectors is not None:
            X, used_featurizer = ds.vectors, "vectors"
        elif ds.text is not None:
            from ..featurize import featurize, resolve_featurizer

            used_featurizer = resolve_featurizer(featurizer, len(ds))
            X = featurize(list(ds.text), used_featurizer)

    computed = pred_probs is None
    with timer.stage("crossfit"):
        if pred_probs is None:
            assert X is not None  # guaranteed by audit(): text or vectors exist
            pred_probs = cross_val_predict_proba(
                X,
                labels,
                n_classes=k,
                n_folds=folds,
                random_state=seed,
                class_names=ds.classes,
                estimator=resolve_end_model(end_model, used_featurizer, len(ds)),
            )
        else:
            check_foldable(labels, k, 2, ds.classes)

    with timer.stage("neighbors"):
        knn_idx = knn_dist = None
        if X is not None and len(ds) > n_neighbors:
            knn_idx, knn_dist = nearest_neighbors(X, k=n_neighbors, random_state=seed)

    with timer.stage("audit"):
        noise = estimate_noise_matrices(labels, pred_probs)
        is_issue = find_label_issues(labels, pred_probs)
        quality = get_label_quality(labels, pred_probs, knn_indices=knn_idx)
        agreement = (
            get_neighbor_agreement_scores(labels, knn_idx, pred_probs=pred_probs, n_classes=k)
            if knn_idx is not None
            else None
        )
        if knn_dist is not None:
            outlier_score = get_outlier_scores(knn_dist)
            is_outlier = find_outliers(knn_dist)
        else:
            outlier_score = np.zeros(len(ds), dtype=np.float32)
            is_outlier = np.zeros(len(ds), dtype=bool)
        if X is not None and knn_idx is not None:
            dups = find_near_duplicates(X, labels, knn_indices=knn_idx, knn_distances=knn_dist)
            dup_group, dup_conflict = dups.group, dups.conflicting
        else:
            dup_group = np.full(len(ds), -1, dtype=np.int64)
            dup_conflict = np.zeros(len(ds), dtype=bool)
        health = class_health(labels, pred_probs, noise, is_issue)
        imbalance = class_imbalance(labels, k)

    temperature = None
    out_probs = pred_probs
    if calibrate and computed:
        with timer.stage("calibrate"):
            from ..calibrate import calibrate_probs

            # Noise-aware temperature scaling: the given labels are noisy, so the fit
            # matches noise_matrix @ p to them (see truelabel.calibrate.TemperatureScaling).
            out_probs, temperature = calibrate_probs(
                pred_probs, labels, noise_matrix=noise.noise_matrix
            )

    with timer.stage("assemble"):
        issues = _issues_table(
            ds,
            out_probs,
            quality,
            is_issue,
            is_outlier,
            outlier_score,
            dup_group,
            dup_conflict,
            knn_idx,
            agreement,
        )
        summary = _summary(
            ds,
            noise,
            health,
            imbalance,
            issues,
            timer.times,
            settings={
                "featurizer": used_featurizer,
                "folds": folds,
                "seed": seed,
                "end_model": resolve_end_model(end_model, used_featurizer, len(ds))
                if computed
                else None,
                "n_neighbors": n_neighbors,
                "pred_probs_given": not computed,
                "calibrated": temperature is not None,
            },
        )
        summary["temperature"] = temperature
        _warn_near_chance(summary, labels, pred_probs)
    summary["timings_s"] = dict(timer.times)
    return AuditResult(
        issues=issues,
        summary=summary,
        pred_probs=out_probs,
        classes=list(ds.classes),
        computed_pred_probs=computed,
    )


def _warn_near_chance(summary: dict[str, Any], labels: np.ndarray, pred_probs: np.ndarray) -> None:
    """Record the model's agreement with the labels and warn when it is near chance."""
    from ._health import model_agreement, near_chance_warning

    summary["model_agreement"] = model_agreement(labels, pred_probs)
    warning = near_chance_warning(summary["model_agreement"], summary["noise_rate"])
    summary.setdefault("warnings", []).extend([warning] if warning else [])
    if warning:
        warnings.warn(warning, UserWarning, stacklevel=3)


def resolve_end_model(end_model: str, featurizer: str | None, n_rows: int) -> str:
    """``auto`` → ``ridge`` for the ``static`` featurizer or more than 200k rows, else
    ``logistic``."""
    if end_model not in ("auto", "logistic", "ridge"):
        raise InputError(f"unknown --end-model {end_model!r}; use auto, logistic or ridge.")
    if end_model != "auto":
        return end_model
    return "ridge" if featurizer == "static" or n_rows > 200_000 else "logistic"


def _issues_table(
    ds: Dataset,
    pred_probs: np.ndarray,
    quality: np.ndarray,
    is_issue: np.ndarray,
    is_outlier: np.ndarray,
    outlier_score: np.ndarray,
    dup_group: np.ndarray,
    dup_conflict: np.ndarray,
    knn_idx: np.ndarray | None,
    agreement: np.ndarray | None,
) -> pd.DataFrame:
    assert ds.labels is not None
    labels = ds.labels
    n = len(ds)
    classes = np.asarray(ds.classes, dtype=object)
    rows = np.arange(n)
    suggested = np.asarray(pred_probs.argmax(axis=1))
    cols: dict[str, Any] = {"item_id": ds.item_id}
    if ds.text is not None:
        cols["text"] = ds.text
    cols.update(
        given_label=classes[labels],
        suggested_label=classes[suggested],
        given_prob=np.asarray(pred_probs[rows, labels], dtype=np.float32),
        suggested_prob=np.asarray(pred_probs[rows, suggested], dtype=np.float32),
        label_quality=np.asarray(quality, dtype=np.float32),
        is_label_issue=np.asarray(is_issue, dtype=bool),
        is_outlier=np.asarray(is_outlier, dtype=bool),
        outlier_score=np.asarray(outlier_score, dtype=np.float32),
        duplicate_group=np.asarray(dup_group, dtype=np.int64),
        is_conflicting_duplicate=np.asarray(dup_conflict, dtype=bool),
    )
    if agreement is not None:
        cols["neighbor_agreement"] = np.asarray(agreement, dtype=np.float32)
    df = pd.DataFrame(cols)
    if knn_idx is not None:
        ids = np.asarray(ds.item_id)
        df["neighbors"] = list(ids[knn_idx[:, : min(5, knn_idx.shape[1])]])

    issue = np.full(n, "none", dtype=object)
    issue[df["is_outlier"].to_numpy()] = "outlier"
    issue[df["is_conflicting_duplicate"].to_numpy()] = "conflicting_duplicate"
    issue[df["is_label_issue"].to_numpy()] = "label_error"
    df["issue"] = issue

    reason = np.full(n, "", dtype=object)
    flagged = np.flatnonzero(issue != "none")
    if len(flagged):
        sub = df.iloc[flagged]
        text = (
            "given '"
            + sub["given_label"].astype(str)
            + "' has p="
            + sub["given_prob"].map("{:.2f}".format)
            + "; model suggests '"
            + sub["suggested_label"].astype(str)
            + "' (p="
            + sub["suggested_prob"].map("{:.2f}".format)
            + ")"
        )
        if agreement is not None:
            text = (
                text
                + "; neighbours agree with the given label "
                + (sub["neighbor_agreement"] * 100).round().astype(int).astype(str)
                + "%"
            )
        text = text.where(
            ~sub["is_conflicting_duplicate"], text + "; near-duplicate with a different label"
        )
        text = text.where(~sub["is_outlier"], text + "; unlike other items (outlier)")
        reason[flagged] = text.to_numpy()
    df["reason"] = reason
    df["row"] = rows  # input row = row of pred_probs.npy (the table is sorted below)
    order = np.lexsort((np.arange(n), df["label_quality"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


def _versions() -> dict[str, str]:
    import sklearn

    from .. import __version__

    return {
        "truelabel": __version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }


def _summary(
    ds: Dataset,
    noise: Any,
    health: dict[str, Any],
    imbalance: dict[str, Any],
    issues: pd.DataFrame,
    timings: dict[str, float],
    *,
    settings: dict[str, Any],
) -> dict[str, Any]:
    names = ds.class_names()
    per_class = dict(zip(names, np.asarray(noise.noise_rate_per_class).tolist(), strict=True))
    health_rows = []
    keys = list(health)
    for i, cname in enumerate(names):
        row = {"class": cname}
        for key in keys:
            v = np.asarray(health[key])
            if v.ndim == 1 and v.shape[0] == len(names):
                val = v[i].item()
                if key in ("top_confusion", "most_confused_with"):
                    val = names[int(val)] if int(val) >= 0 else None
                row[key] = val
        health_rows.append(row)
    return {
        "n": int(len(ds)),
        "n_dropped_missing_label": int(len(ds.dropped_rows)),
        "n_classes": len(names),
        "classes": names,
        "noise_rate": float(noise.noise_rate),
        "noise_rate_per_class": per_class,
        "noise_matrix": {
            "meaning": "noise_matrix[i][j] = P(given label = classes[i] | true label = classes[j])",
            "values": np.asarray(noise.noise_matrix, dtype=float).round(5).tolist(),
        },
        "prior": dict(
            zip(names, np.asarray(noise.prior, dtype=float).round(5).tolist(), strict=True)
        ),
        "counts": {
            "label_error": int(issues["is_label_issue"].sum()),
            "outlier": int(issues["is_outlier"].sum()),
            "conflicting_duplicate": int(issues["is_conflicting_duplicate"].sum()),
            "duplicate_groups": int(issues["duplicate_group"].max() + 1)
            if len(issues) and issues["duplicate_group"].max() >= 0
            else 0,
        },
        "class_health": health_rows,
        "class_imbalance": imbalance,
        "settings": settings,
        "timings_s": dict(timings),
        "versions": _versions(),
    }
