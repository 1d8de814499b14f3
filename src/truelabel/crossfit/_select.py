"""Run a :class:`ModelPlan`: cross-fit its candidates and combine them by log-loss.

Each candidate (featurizer + end model) gives K-fold out-of-sample probabilities. Every
candidate's probabilities are temperature-scaled against the given labels (one parameter),
then :func:`stack_weights` finds the convex combination that minimises the mean negative
log-likelihood of the given labels. Out-of-sample probabilities make that likelihood an
honest score of how well each model predicts labels it never saw; with only one weight per
candidate there is little to over-fit. A weight of 1 on one candidate is a single winner.

Candidates after the first are run only while they fit the time budget: MiniLM's encoding
is projected from its own progress and abandoned when it would overrun; the static
embedding's one-off distillation (first use on a machine) is charged at its measured cost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize

from .._errors import InputError
from .._types import Float32Array, FloatArray, IntArray, RandomState
from .._validation import check_labels, check_pred_probs, check_random_state
from ._crossfit import cross_val_predict_proba, fold_ids
from ._plan import Candidate, ModelPlan

__all__ = [
    "CandidateResult",
    "Combination",
    "ModelSelection",
    "combine_probabilities",
    "select_model",
    "stack_weights",
]

logger = logging.getLogger(__name__)

#: Seconds charged for distilling the static embedding on first use (93-109 s measured on
#: the project's 2-core machine; BENCHMARKS.md, featurizers).
STATIC_DISTILL_SECONDS = 110.0
#: Candidates whose stacked weight is below this are dropped (and the rest renormalised).
MIN_WEIGHT = 0.01

StageCallback = Callable[[str, str], None]


@dataclass
class CandidateResult:
    """How one candidate did.

    Attributes
    ----------
    name : str
        ``featurizer+end_model``.
    status : {"ok", "skipped", "failed"}
    log_loss : float or None
        Mean negative log-likelihood of the given labels under the candidate's
        temperature-scaled out-of-sample probabilities (lower = better).
    log_loss_raw : float or None
        The same before temperature scaling.
    temperature : float or None
    weight : float
        Its weight in the combined probabilities (0 when not used).
    seconds : float
        Featurization + cross-fitting time spent on it.
    note : str
        Why it was skipped or failed.
    """

    name: str
    status: str
    log_loss: float | None = None
    log_loss_raw: float | None = None
    temperature: float | None = None
    weight: float = 0.0
    seconds: float = 0.0
    note: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "candidate": self.name,
            "status": self.status,
            "log_loss": None if self.log_loss is None else round(self.log_loss, 5),
            "log_loss_raw": None if self.log_loss_raw is None else round(self.log_loss_raw, 5),
            "temperature": None if self.temperature is None else round(self.temperature, 4),
            "weight": round(self.weight, 4),
            "seconds": round(self.seconds, 3),
            "note": self.note,
        }


@dataclass
class ModelSelection:
    """The out-of-sample probabilities a run uses, and how they were chosen.

    Attributes
    ----------
    pred_probs : ndarray of shape (N, K), float32
        Rows sum to 1.
    chosen : str
        The winner (``"tfidf+logistic"``) or the blend (``"0.62 minilm+logistic + 0.38
        static+logistic"``).
    candidates : list of CandidateResult
    features : ndarray (N, D), sparse matrix or None
        Features of the highest-weight candidate (for neighbours, outliers, duplicates).
    features_name : str or None
        Its featurizer.
    log_loss : float or None
        Log-loss of ``pred_probs`` against the given labels.
    folds : ndarray of shape (N,), int, or None
        The fold that predicted each row (the same split for every candidate).
    """

    pred_probs: Float32Array
    chosen: str
    candidates: list[CandidateResult] = field(default_factory=list)
    features: Any = None
    features_name: str | None = None
    log_loss: float | None = None
    folds: IntArray | None = None

    def describe(self) -> dict[str, Any]:
        """JSON-ready (``summary.json`` → ``model_selection``)."""
        return {
            "chosen": self.chosen,
            "log_loss": None if self.log_loss is None else round(self.log_loss, 5),
            "neighbor_features": self.features_name,
            "candidates": [c.describe() for c in self.candidates],
        }


# --------------------------------------------------------------------------- numeric core


def _nll(probs: np.ndarray, labels: IntArray) -> float:
    own = probs[np.arange(labels.shape[0]), labels].astype(np.float64)
    return float(-np.log(np.clip(own, 1e-12, None)).mean())


def stack_weights(probs: Sequence[Any], labels: Any) -> FloatArray:
    """Convex weights of several probability matrices that maximise the likelihood of labels.

    Finds ``w`` on the simplex minimising ``-mean_i log(sum_m w_m * P_m[i, labels[i]])``.
    The objective is convex in ``w``; it is solved by L-BFGS over a softmax
    parametrisation. Use it on out-of-sample probabilities (cross-fitted or held-out).

    Parameters
    ----------
    probs : sequence of M arrays of shape (N, K)
        Probabilities from M models (rows sum to 1).
    labels : array-like of shape (N,)
        Integer class codes in ``[0, K)``.

    Returns
    -------
    weights : ndarray of shape (M,), float64
        Non-negative, summing to 1; weights under 1e-6 are set to 0.
    """
    if len(probs) == 0:
        raise InputError("stack_weights needs at least one probability matrix.")
    first = check_pred_probs(probs[0], name="probs[0]")
    n, k = first.shape
    labs = check_labels(labels, n_classes=k, n_rows=n)
    mats = [first] + [
        check_pred_probs(p, n_rows=n, n_classes=k, name=f"probs[{i + 1}]")
        for i, p in enumerate(probs[1:])
    ]
    own = np.stack([m[np.arange(n), labs].astype(np.float64) for m in mats], axis=1)
    return _compute_stack_weights(np.clip(own, 1e-12, None))


@dataclass
class Combination:
    """Out-of-sample probabilities of several models, combined (:func:`combine_probabilities`).

    Attributes
    ----------
    pred_probs : ndarray of shape (N, K), float32
    weights : ndarray of shape (M,)
        Stacking weights (sum to 1; weights under :data:`MIN_WEIGHT` set to 0).
    temperatures : ndarray of shape (M,)
        Each model's fitted temperature.
    log_losses : ndarray of shape (M,)
        Each model's log-loss after its temperature.
    log_loss : float
        The combination's log-loss.
    """

    pred_probs: Float32Array
    weights: FloatArray
    temperatures: FloatArray
    log_losses: FloatArray
    log_loss: float


def combine_probabilities(probs: Sequence[Any], labels: Any) -> Combination:
    """Temperature-scale each model's probabilities, then stack them by log-loss.

    What ``featurizer="auto"`` does with its candidates' cross-fitted probabilities: each
    matrix gets one temperature fitted against ``labels``, then :func:`stack_weights` finds
    the convex combination with the lowest log-loss; weights under :data:`MIN_WEIGHT` are
    dropped.

    Parameters
    ----------
    probs : sequence of M arrays of shape (N, K)
        Out-of-sample probabilities (rows sum to 1).
    labels : array-like of shape (N,)
        The given labels, integer codes.

    Returns
    -------
    Combination
    """
    from ..calibrate import calibrate_probs

    if len(probs) == 0:
        raise InputError("combine_probabilities needs at least one probability matrix.")
    first = check_pred_probs(probs[0], name="probs[0]")
    labs = check_labels(labels, n_classes=first.shape[1], n_rows=first.shape[0])
    scaled, temps = [], []
    for p in probs:
        q, t = calibrate_probs(p, labs)
        scaled.append(q)
        temps.append(t)
    rows = np.arange(labs.shape[0])
    own = np.stack([q[rows, labs].astype(np.float64) for q in scaled], axis=1)
    w = _compute_stack_weights(np.clip(own, 1e-12, None))
    w[w < MIN_WEIGHT] = 0.0
    w /= w.sum()
    combined = np.zeros(scaled[0].shape, dtype=np.float64)
    for wi, q in zip(w, scaled, strict=True):
        if wi > 0:
            combined += wi * q
    combined /= combined.sum(axis=1, keepdims=True)
    return Combination(
        pred_probs=combined.astype(np.float32),
        weights=w,
        temperatures=np.asarray(temps, dtype=np.float64),
        log_losses=np.asarray([_nll(q, labs) for q in scaled]),
        log_loss=_nll(combined, labs),
    )


def _compute_stack_weights(own: np.ndarray) -> FloatArray:
    """``own``: (N, M) probabilities each model gives the given label, clipped above 0."""
    m = own.shape[1]
    if m == 1:
        return np.ones(1)

    def fun(a: np.ndarray) -> tuple[float, np.ndarray]:
        w = np.exp(a - a.max())
        w /= w.sum()
        mix = own @ w
        f = -np.log(mix).mean()
        g_w = -(own / mix[:, None]).mean(axis=0)  # df/dw
        g_a = w * (g_w - w @ g_w)  # chain rule through the softmax
        return float(f), g_a

    res = minimize(fun, np.zeros(m), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    w = np.exp(res.x - res.x.max())
    w /= w.sum()
    w[w < 1e-6] = 0.0
    return np.asarray(w / w.sum(), dtype=np.float64)


# --------------------------------------------------------------------------- running a plan


class _OverBudget(Exception):
    def __init__(self, projected: float) -> None:
        super().__init__(f"projected {projected:.0f}s")
        self.projected = projected


def _featurize(texts: Sequence[str], name: str, allowed: float | None, started: float) -> Any:
    """Featurize, abandoning MiniLM when its projected time exceeds ``allowed`` seconds."""
    from ..featurize import featurize, is_cached

    if allowed is None or name != "minilm" or is_cached(texts, name):
        return featurize(texts, name)
    n = len(texts)

    def progress(done: int, total: int) -> None:
        # stop as soon as the budget is spent; otherwise judge the projection after 3
        # batches (batches run longest text first, so it errs on the slow side)
        elapsed = time.perf_counter() - started
        projected = elapsed * total / max(done, 1)
        if elapsed > allowed or (done >= min(total, 192) and projected > allowed):
            raise _OverBudget(projected)

    return featurize(texts, name, progress=progress) if n else featurize(texts, name)


def _static_setup_seconds() -> float:
    """One-off cost of the static table: 0 when it is already distilled on this machine."""
    from ..featurize import StaticFeaturizer

    return 0.0 if StaticFeaturizer().model_path.exists() else STATIC_DISTILL_SECONDS


def select_model(
    plan: ModelPlan,
    labels: Any,
    *,
    n_classes: int,
    texts: Sequence[str] | None = None,
    vectors: Any = None,
    folds: int = 5,
    random_state: RandomState = 0,
    class_names: Sequence[Any] | None = None,
    on_stage: StageCallback | None = None,
) -> ModelSelection:
    """Cross-fit the plan's candidates and combine them (see the module docstring).

    Parameters
    ----------
    plan : ModelPlan
        From :func:`plan_model`; needs at least one candidate.
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, n_classes)``.
    n_classes : int
    texts : sequence of str, optional
        The texts (for text featurizers).
    vectors : ndarray of shape (N, D), optional
        Features for the ``vectors`` candidate.
    folds : int
    random_state : int, Generator or None
        Seeds the fold split (the same split for every candidate).
    class_names : sequence, optional
        For error messages.
    on_stage : callable(name, "start"|"done"), optional
        Called around each candidate (``"crossfit tfidf+logistic"``).

    Returns
    -------
    ModelSelection
    """
    if not plan.candidates:
        raise InputError("the plan has no candidate model to cross-fit.")
    labs = check_labels(labels, n_classes=n_classes)
    # every candidate gets the same fold split: an int seed is passed on as is (so a
    # candidate's probabilities equal cross_val_predict_proba(..., random_state=seed))
    seed: int | None = (
        int(check_random_state(random_state).integers(0, 2**31 - 1))
        if isinstance(random_state, np.random.Generator)
        else random_state
    )
    t_start = time.perf_counter()
    results: list[CandidateResult] = []
    probs: list[Float32Array] = []
    feats: list[Any] = []
    for i, cand in enumerate(plan.candidates):
        t0 = time.perf_counter()
        allowed = None
        if plan.select and i > 0:
            allowed = plan.time_budget - (t0 - t_start - results[0].seconds)
            setup = _static_setup_seconds() if cand.featurizer == "static" else 0.0
            if setup > allowed:
                results.append(
                    CandidateResult(
                        cand.name,
                        "skipped",
                        note=f"one-off distillation (~{setup:.0f}s) exceeds the remaining "
                        f"time budget ({max(allowed, 0):.0f}s)",
                    )
                )
                continue
            if allowed <= 0:
                results.append(CandidateResult(cand.name, "skipped", note="time budget used up"))
                continue
        stage = f"crossfit {cand.name}"
        if on_stage:
            on_stage(stage, "start")
        try:
            X = _candidate_features(cand, texts, vectors, allowed, t0)
            p = cross_val_predict_proba(
                X,
                labs,
                n_classes=n_classes,
                n_folds=folds,
                random_state=seed,
                class_names=class_names,
                estimator=cand.end_model,
            )
        except _OverBudget as over:
            results.append(
                CandidateResult(
                    cand.name,
                    "skipped",
                    seconds=time.perf_counter() - t0,
                    note=f"encoding projected at {over.projected:.0f}s, over the remaining "
                    f"time budget ({allowed:.0f}s)",
                )
            )
            logger.info("candidate %s skipped: %s", cand.name, over)
            continue
        finally:
            if on_stage:
                on_stage(stage, "done")
        results.append(
            CandidateResult(
                cand.name, "ok", log_loss_raw=_nll(p, labs), seconds=time.perf_counter() - t0
            )
        )
        probs.append(p)
        feats.append(X)
    ok = [r for r in results if r.status == "ok"]
    if not plan.select:
        res = ok[0]
        res.weight, res.log_loss = 1.0, res.log_loss_raw
        sel = ModelSelection(
            pred_probs=probs[0],
            chosen=res.name,
            candidates=results,
            features=feats[0],
            features_name=plan.candidates[0].featurizer,
            log_loss=res.log_loss,
        )
    else:
        sel = _combine(results, probs, feats, labs)
    sel.folds = fold_ids(labs, folds, seed)
    return sel


def _candidate_features(
    cand: Candidate, texts: Sequence[str] | None, vectors: Any, allowed: float | None, t0: float
) -> Any:
    if cand.featurizer == "vectors":
        if vectors is None:
            raise InputError("the plan uses vectors but none were given.")
        return vectors
    if texts is None:
        raise InputError(f"the candidate {cand.name} needs texts; pass a text column.")
    return _featurize(texts, cand.featurizer, allowed, t0)


def _combine(
    results: list[CandidateResult],
    probs: list[Float32Array],
    feats: list[Any],
    labs: IntArray,
) -> ModelSelection:
    ok = [r for r in results if r.status == "ok"]
    comb = combine_probabilities(probs, labs)
    w = comb.weights
    for i, r in enumerate(ok):
        r.weight = float(w[i])
        r.temperature = float(comb.temperatures[i])
        r.log_loss = float(comb.log_losses[i])
    order = np.argsort(-w, kind="stable")
    used = [i for i in order if w[i] > 0]
    chosen = (
        ok[used[0]].name if len(used) == 1 else " + ".join(f"{w[i]:.2f} {ok[i].name}" for i in used)
    )
    best = int(order[0])
    return ModelSelection(
        pred_probs=comb.pred_probs,
        chosen=chosen,
        candidates=results,
        features=feats[best],
        features_name=ok[best].name.split("+")[0],
        log_loss=comb.log_loss,
    )
