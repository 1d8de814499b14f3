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
from ..crossfit import check_foldable
from ..io import Dataset, load_array, load_dataset
from ._duplicates import NearDuplicates, find_exact_duplicates, find_near_duplicates
from ._filter import find_label_issues
from ._health import class_health, class_imbalance
from ._neighbors import nearest_neighbors
from ._noise import estimate_noise_matrices
from ._outliers import find_outliers, get_outlier_scores
from ._result import AuditResult
from ._scores import choose_neighbor_weight, get_label_quality, get_neighbor_agreement_scores

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
    text_checks: bool | None = None,
    time_budget: float | None = None,
    own_model: bool = False,
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
    featurizer : {"auto", "tfidf", "static", "minilm"}
        How texts become vectors. ``auto`` (the default) lets the data decide: TF-IDF, the
        static embedding and MiniLM are each cross-fitted (within ``time_budget``) and
        combined with the weights that minimise the cross-fitted log-loss against the given
        labels; ``summary.json`` → ``model_selection`` shows each candidate's score. Above
        200k rows ``auto`` is the static embedding with ridge. See
        :func:`truelabel.crossfit.plan_model`.
    vectors_file : path or ndarray, optional
        ``.npy`` file (or an in-memory array) of shape (N, D): precomputed features, one
        row per data row.
    pred_probs : path to ``.npy`` or ndarray of shape (N, K), optional
        Your own out-of-sample probabilities (columns = sorted classes); skips cross-fitting.
        A ``.npy`` file is memory-mapped, not copied. They are trusted: the ranking is
        computed from them alone, and the texts are not embedded unless ``text_checks``.
    folds : int
        K of the stratified K-fold cross-fitting.
    end_model : {"auto", "logistic", "ridge"}
        The cross-fitted model: multinomial logistic regression (most accurate), or
        closed-form ridge with a fitted temperature (many times faster, dense features
        only). ``auto`` is logistic, ridge above 200k rows.
    seed : int
        Seeds every random step; same input + seed → same output.
    drop_missing : bool
        Leave out rows with no label instead of refusing.
    n_neighbors : int
        Neighbours per item for the agreement score, outliers and the review view.
    text_checks : bool, optional
        Embed the texts for the neighbour view, outliers and near-duplicates. Default
        (``None``): on when the audit featurizes anyway (no ``pred_probs``), off with
        ``pred_probs`` — then only exact duplicate texts are grouped, which needs no model.
    time_budget : float, optional
        Seconds ``featurizer="auto"`` may spend on candidates after the first (TF-IDF);
        default :data:`truelabel.crossfit.DEFAULT_TIME_BUDGET` (300).
    own_model : bool
        With ``pred_probs``: also cross-fit truelabel's own model on the texts (as
        ``featurizer`` says) and blend it into the given probabilities with the weight that
        minimises the cross-fitted log-loss against the given labels. A weight of 0 (the
        own model does not predict the labels better) leaves the given probabilities
        untouched; ``summary.json`` → ``own_model`` reports the weight and the log-losses.
    calibrate : bool
        Temperature-scale the cross-fitted probabilities that the outputs report
        (``given_prob``, ``suggested_prob``, ``pred_probs.npy``): one temperature fitted
        against the given labels. With one model (an explicit ``featurizer``) flags and
        ranking use the raw cross-fitted probabilities; with ``featurizer="auto"`` every
        candidate is scaled this way before the stacking, so the combined probabilities
        are reported as they are. Probabilities you pass with ``pred_probs`` are reported
        as given.
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
            allow_empty_text=True,
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
        text_checks=text_checks,
        time_budget=time_budget,
        own_model=own_model,
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
    text_checks: bool | None = None,
    time_budget: float | None = None,
    own_model: bool = False,
    timer: _Timer | None = None,
    on_stage: StageCallback | None = None,
) -> AuditResult:
    """Audit a loaded :class:`~truelabel.io.Dataset` (see :func:`audit` for the options).

    Rows with an empty text (``ds.empty_text``) are reported as ``empty_text`` issues. When
    the probabilities are cross-fitted from the text, those rows are left out of the model
    and of the label audit (there is nothing to judge their label by): their
    ``label_quality`` is NaN and their ``pred_probs`` row is the class prior of the other
    rows. With given probabilities they are audited like any other row.
    """
    from ..crossfit import plan_model, select_model

    timer = timer or _Timer(on_stage)
    if ds.labels is None:
        raise InputError("the audit needs a label column; pass --label-column NAME.")
    labels = ds.labels
    k = ds.n_classes
    n = len(ds)
    if pred_probs is not None and pred_probs.shape[1] != k:
        raise InputError(
            f"pred_probs has {pred_probs.shape[1]} columns but the label column has {k} classes "
            f"({ds.class_names()[:10]}…); columns must follow the sorted class list."
        )
    computed = pred_probs is None
    empty = np.zeros(n, dtype=bool) if ds.empty_text is None else np.asarray(ds.empty_text, bool)
    blend = own_model and not computed
    checks = computed or blend if text_checks is None else bool(text_checks)
    plan = plan_model(
        featurizer,
        end_model,
        n_rows=n,
        has_text=ds.text is not None,
        has_vectors=ds.vectors is not None,
        pred_probs_given=not computed and not blend,
        text_checks=checks,
        time_budget=time_budget,
    )
    # the rows the label audit judges: every row, except empty texts when the model reads text
    judged = ~empty if (computed and ds.vectors is None) else np.ones(n, dtype=bool)
    rows = np.flatnonzero(judged)
    lab = labels[rows]
    texts = None if ds.text is None else [str(t) for t in np.asarray(ds.text)[rows]]
    vectors = None if ds.vectors is None else ds.vectors[rows]

    X = None
    selection = None
    blended: dict[str, Any] | None = None
    with timer.stage("crossfit"):
        if computed or blend:
            check_foldable(lab, k, folds, ds.classes)  # before any featurizing
            selection = select_model(
                plan,
                lab,
                n_classes=k,
                texts=texts,
                vectors=vectors,
                folds=folds,
                random_state=seed,
                class_names=ds.classes,
                on_stage=timer.on_stage,
            )
            probs = selection.pred_probs
            X = selection.features
        if not computed:
            assert pred_probs is not None
            check_foldable(labels, k, 2, ds.classes)
            given_probs = pred_probs
            if blend:
                assert selection is not None
                blended = _blend_own_model(given_probs, probs, lab)
                probs = blended.pop("pred_probs")
            else:
                probs = given_probs
    if not computed and not blend and plan.candidates:
        with timer.stage("featurize"):
            X = _features_for_checks(plan, texts, vectors)

    with timer.stage("neighbors"):
        knn_idx = knn_dist = None
        neighbor_weight, weight_losses = 0.0, None
        if X is not None and rows.shape[0] > n_neighbors:
            # more neighbours than shown, so that several share each item's fold when the
            # neighbour weight is chosen (choose_neighbor_weight)
            k_search = min(max(n_neighbors, NEIGHBOR_SEARCH_K), rows.shape[0] - 1)
            knn_all, dist_all = nearest_neighbors(X, k=k_search, random_state=seed)
            knn_idx, knn_dist = knn_all[:, :n_neighbors], dist_all[:, :n_neighbors]
            if selection is not None and selection.folds is not None and not blend:
                neighbor_weight, weight_losses = choose_neighbor_weight(
                    lab, probs, knn_all, selection.folds
                )

    with timer.stage("audit"):
        noise = estimate_noise_matrices(lab, probs)
        filter_by = FILTER_BY["cross-fitted" if computed else "given"]
        is_issue = find_label_issues(lab, probs, filter_by=filter_by)
        quality = get_label_quality(
            lab,
            probs,
            knn_indices=knn_idx if neighbor_weight > 0 else None,
            neighbor_weight=neighbor_weight,
        )
        agreement = (
            get_neighbor_agreement_scores(lab, knn_idx, pred_probs=probs, n_classes=k)
            if knn_idx is not None
            else None
        )
        if knn_dist is not None:
            outlier_score = get_outlier_scores(knn_dist)
            is_outlier = find_outliers(knn_dist)
            dups = find_near_duplicates(X, lab, knn_indices=knn_idx, knn_distances=knn_dist)
        else:
            outlier_score = np.zeros(rows.shape[0], dtype=np.float32)
            is_outlier = np.zeros(rows.shape[0], dtype=bool)
            dups = _exact_text_duplicates(texts, lab, empty[rows])
        health = class_health(lab, probs, noise, is_issue)
        imbalance = class_imbalance(labels, k)

    temperature = None
    out_probs = probs
    if calibrate and computed and selection is not None and len(selection.candidates) == 1:
        with timer.stage("calibrate"):
            from ..calibrate import calibrate_probs

            # One temperature fitted against the given labels. Chosen over the noise-aware
            # fit (noise_matrix @ p matched to the labels) on the real-noise suite: ECE
            # against the true labels 0.12 vs 0.32 (benchmarks/bench_real_noise.py). With
            # featurizer="auto" every candidate is already scaled this way before stacking.
            out_probs, temperature = calibrate_probs(probs, lab)

    with timer.stage("assemble"):
        full = _expand(
            n,
            rows,
            k,
            probs=out_probs,
            quality=quality,
            is_issue=is_issue,
            is_outlier=is_outlier,
            outlier_score=outlier_score,
            dup_group=dups.group,
            dup_conflict=dups.conflicting,
            knn_idx=knn_idx,
            agreement=agreement,
            prior=noise.prior,
        )
        issues = _issues_table(ds, empty=empty, judged=judged, **full)
        summary = _summary(
            ds,
            noise,
            health,
            imbalance,
            issues,
            timer.times,
            settings={
                "featurizer": selection.chosen
                if selection is not None
                else (plan.featurizer if X is not None else None),
                "folds": folds,
                "seed": seed,
                "end_model": "/".join(sorted({c.end_model for c in plan.candidates}))
                if computed
                else None,
                "n_neighbors": n_neighbors,
                "neighbor_weight": neighbor_weight,
                "filter_by": filter_by,
                "pred_probs_given": not computed,
                "text_checks": checks,
                "calibrated": temperature is not None,
                "model_plan": plan.describe(),
            },
        )
        summary["temperature"] = temperature
        if selection is not None:
            summary["model_selection"] = selection.describe()
        if blended is not None:
            summary["own_model"] = blended
        if weight_losses is not None:
            summary["neighbor_weight_selection"] = {
                "chosen": neighbor_weight,
                "log_loss": {str(w): round(v, 5) for w, v in weight_losses.items()},
                "rule": "lowest log-loss of (1-w)*p_i + w*mean(p_j, same-fold neighbours j) "
                "against the given labels",
            }
        _warn_near_chance(summary, lab, probs)
    summary["timings_s"] = dict(timer.times)
    return AuditResult(
        issues=issues,
        summary=summary,
        pred_probs=full["probs"],
        classes=list(ds.classes),
        computed_pred_probs=computed,
    )


#: Neighbours searched per item when the audit cross-fits: enough that several share each
#: item's fold for choose_neighbor_weight (about 6 of 30 with 5 folds).
NEIGHBOR_SEARCH_K = 30
#: The audit's ``find_label_issues`` strategy, by where the probabilities come from; chosen
#: on the same suite (F1 of ``is_label_issue`` against the true errors).
FILTER_BY = {"given": "prune_by_noise_rate", "cross-fitted": "prune_by_class"}


def _blend_own_model(given: np.ndarray, own: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Stack the given probabilities with the own cross-fitted model by log-loss; keep the
    given ones untouched when the own model gets no weight."""
    from ..crossfit import combine_probabilities

    comb = combine_probabilities([given, own], labels)
    weight = float(comb.weights[1])
    return {
        "pred_probs": comb.pred_probs if weight > 0 else given,
        "weight": round(weight, 4),
        "used": weight > 0,
        "log_loss_given": round(float(comb.log_losses[0]), 5),
        "log_loss_own": round(float(comb.log_losses[1]), 5),
        "log_loss_blend": round(float(comb.log_loss), 5),
        "rule": "weight minimising the cross-fitted log-loss against the given labels",
    }


def _features_for_checks(plan: Any, texts: list[str] | None, vectors: Any) -> Any:
    """Features for the text checks beside given probabilities (no cross-fitting)."""
    if plan.featurizer == "vectors":
        return vectors
    from ..featurize import featurize

    assert texts is not None
    return featurize(texts, plan.featurizer)


def _exact_text_duplicates(
    texts: list[str] | None, labels: np.ndarray, empty: np.ndarray
) -> NearDuplicates:
    """Groups of identical texts (case and surrounding whitespace ignored); no model needed."""
    n = labels.shape[0]
    if texts is None:
        return NearDuplicates(
            group=np.full(n, -1, dtype=np.int64), conflicting=np.zeros(n, dtype=bool), n_groups=0
        )
    keys = pd.factorize(pd.Series(texts, dtype=object).str.strip().str.lower())[0]
    keys = np.where(empty, -1, keys).astype(np.int64)
    return find_exact_duplicates(keys, labels)


def _expand(
    n: int,
    rows: np.ndarray,
    k: int,
    *,
    probs: np.ndarray,
    quality: np.ndarray,
    is_issue: np.ndarray,
    is_outlier: np.ndarray,
    outlier_score: np.ndarray,
    dup_group: np.ndarray,
    dup_conflict: np.ndarray,
    knn_idx: np.ndarray | None,
    agreement: np.ndarray | None,
    prior: np.ndarray,
) -> dict[str, Any]:
    """Per-row results on the judged ``rows`` -> arrays over all ``n`` rows (rows left out
    get the class prior, NaN quality and no flags)."""
    if rows.shape[0] == n:
        return {
            "probs": probs,
            "quality": quality,
            "is_issue": is_issue,
            "is_outlier": is_outlier,
            "outlier_score": outlier_score,
            "dup_group": dup_group,
            "dup_conflict": dup_conflict,
            "knn_idx": knn_idx,
            "agreement": agreement,
        }

    def fill(values: np.ndarray, default: Any, dtype: Any) -> np.ndarray:
        out = np.full((n, *values.shape[1:]), default, dtype=dtype)
        out[rows] = values
        return out

    full_probs = np.broadcast_to(np.asarray(prior, dtype=np.float32), (n, k)).copy()
    full_probs[rows] = probs
    return {
        "probs": full_probs,
        "quality": fill(quality, np.nan, np.float32),
        "is_issue": fill(is_issue, False, bool),
        "is_outlier": fill(is_outlier, False, bool),
        "outlier_score": fill(outlier_score, 0.0, np.float32),
        "dup_group": fill(dup_group, -1, np.int64),
        "dup_conflict": fill(dup_conflict, False, bool),
        # neighbour indices point into the judged rows: map them to row numbers
        "knn_idx": None if knn_idx is None else fill(rows[knn_idx], -1, np.int64),
        "agreement": None if agreement is None else fill(agreement, np.nan, np.float32),
    }


def _warn_near_chance(summary: dict[str, Any], labels: np.ndarray, pred_probs: np.ndarray) -> None:
    """Record the model's agreement with the labels and warn when it is near chance."""
    from ._health import model_agreement, near_chance_warning

    summary["model_agreement"] = model_agreement(labels, pred_probs)
    warning = near_chance_warning(summary["model_agreement"], summary["noise_rate"])
    summary.setdefault("warnings", []).extend([warning] if warning else [])
    if warning:
        warnings.warn(warning, UserWarning, stacklevel=3)


def _issues_table(
    ds: Dataset,
    *,
    empty: np.ndarray,
    judged: np.ndarray,
    probs: np.ndarray,
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
    pred_probs = probs
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
        is_empty_text=np.asarray(empty, dtype=bool),
    )
    if agreement is not None:
        cols["neighbor_agreement"] = np.asarray(agreement, dtype=np.float32)
    df = pd.DataFrame(cols)
    if knn_idx is not None:
        ids = np.asarray(ds.item_id)
        nb = knn_idx[:, : min(5, knn_idx.shape[1])]
        df["neighbors"] = [ids[r[r >= 0]] for r in nb]  # rows left out have no neighbours

    issue = np.full(n, "none", dtype=object)
    issue[df["is_outlier"].to_numpy()] = "outlier"
    issue[df["is_conflicting_duplicate"].to_numpy()] = "conflicting_duplicate"
    issue[empty] = "empty_text"
    issue[df["is_label_issue"].to_numpy()] = "label_error"
    df["issue"] = issue

    reason = np.full(n, "", dtype=object)
    reason[empty & ~judged] = "the text is empty: nothing to judge the label by"
    flagged = np.flatnonzero((issue != "none") & judged)
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
        text = text.where(~sub["is_empty_text"], text + "; the text is empty")
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
            "empty_text": int(issues["is_empty_text"].sum()),
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
