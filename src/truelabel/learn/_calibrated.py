"""Training that stays honest under label noise: the numeric core of ``train_model``.

Two steps, both on NumPy/SciPy arrays (no I/O):

1. :func:`fit_for_calibration` trains the end model and produces out-of-sample
   probabilities for calibration: by default every row is predicted by a model of a
   K-fold cross-fit (``holdout=None``) and the final model is fitted on all rows; with
   ``holdout`` a share of the rows is kept out instead. Confident learning estimates the
   noise matrix ``P(given | true)`` from cross-fitted probabilities of a CE model.
2. :func:`calibrate_fit` fits the temperature and the conformal thresholds on those
   probabilities. With a noise matrix, neither treats the given labels as true: the
   temperature maximises the likelihood of the given labels under ``noise_matrix @ p``
   (:class:`~truelabel.calibrate.TemperatureScaling`) and the conformal thresholds target
   coverage of the true labels (:func:`~truelabel.calibrate.true_label_weights`).

The defaults (module constants below) were chosen by leave-one-dataset-out on the
real-noise text sets; see ``BENCHMARKS.md``, "Training under label noise".
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InputError
from .._types import Float32Array

__all__ = [
    "CalibratedFit",
    "FitForCalibration",
    "calibrate_fit",
    "fit_for_calibration",
    "make_estimator",
]

logger = logging.getLogger(__name__)

#: folds of the calibration cross-fit (``holdout=None``)
N_FOLDS = 5
#: share held out when cross-fitting is not possible (soft targets, rare classes)
FALLBACK_HOLDOUT = 0.2
NOISE_CORRECTIONS = ("invert", "posterior", "none")


def make_estimator(
    model: str,
    loss: str,
    scheme: str,
    random_state: int,
    epochs: int | None,
    forget_rate: float,
    early_stopping: bool = False,
    noise_matrix: np.ndarray | None = None,
) -> Any:
    """The end model for a ``train`` configuration (unfitted)."""
    from ._models import RobustLogisticRegression, RobustMLPClassifier
    from ._schemes import PruneAndRetrain

    inner_scheme = scheme if scheme in ("plain", "smallloss", "coteach") else "plain"
    kw: dict[str, Any] = {
        "loss": loss,
        "scheme": inner_scheme,
        "random_state": random_state,
        "forget_rate": forget_rate,
        "early_stopping": early_stopping,
        "noise_matrix": noise_matrix,
    }
    if epochs is not None:
        kw["epochs"] = epochs
    est: Any = RobustMLPClassifier(**kw) if model == "mlp" else RobustLogisticRegression(**kw)
    if scheme == "prune":
        est = PruneAndRetrain(est, random_state=random_state)
    return est


@dataclass
class FitForCalibration:
    """A trained end model and the out-of-sample probabilities to calibrate it on.

    Attributes
    ----------
    weights : list of dict of ndarray
        The final network(s), output columns for all K classes.
    estimator : fitted classifier
        The final estimator (its ``classes_`` are the classes it saw).
    cal_rows : ndarray of shape (M,), int
        Rows of the training data whose probabilities are in ``cal_probs``.
    cal_probs : ndarray of shape (M, K), float32
        Uncalibrated out-of-sample probabilities of those rows.
    noise_matrix : ndarray of shape (K, K) or None
        Estimated ``P(given = i | true = j)`` (columns sum to 1).
    noise_estimate : NoiseEstimate or None
        Everything confident learning estimated (prior, joint, noise rate).
    mode : {"crossfit", "holdout"}
    n_fit : int
        Labeled rows the final model was fitted on.
    note : str
        Why the mode or the noise estimate differ from what was asked, if they do.
    self_training : SelfTrainingClassifier or None
        The final model when unlabeled rows were given (its ``summary()`` says whether
        the drift guard kept the pseudo-labels).
    """

    weights: list[dict[str, np.ndarray]]
    estimator: Any
    cal_rows: np.ndarray
    cal_probs: Float32Array
    noise_matrix: np.ndarray | None
    noise_estimate: Any
    mode: str
    n_fit: int
    note: str = ""
    self_training: Any = None

    @property
    def network(self) -> Any:
        """The fitted network (unwrapped from prune-and-retrain or self-training)."""
        return getattr(self.estimator, "estimator_", self.estimator)


@dataclass
class CalibratedFit:
    """Temperature and conformal thresholds fitted by :func:`calibrate_fit`.

    Attributes
    ----------
    temperature : float
    conformal : dict
        ``{"score", "mode", "alphas", "quantiles", "include_top", "noise_correction"}``.
    cal_probs : ndarray of shape (M, K), float32
        The calibration rows' probabilities after the temperature.
    noise_matrix : ndarray of shape (K, K) or None
        The noise matrix the calibration used: ``(1 - s) I + s`` estimated.
    noise_scale : float
        That ``s`` (0 without a noise matrix).
    noise_scale_cap : float or None
        With ``noise_scale="anchored"``: the largest ``s`` the most confident items
        support.
    """

    temperature: float
    conformal: dict[str, Any]
    cal_probs: Float32Array
    noise_matrix: np.ndarray | None = None
    noise_scale: float = 0.0
    noise_scale_cap: float | None = None


def _noise_from_probs(hard: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, Any]:
    """Confident learning's noise matrix; classes without evidence get identity columns."""
    from ..audit import estimate_noise_matrices

    est = estimate_noise_matrices(hard, probs)
    nm = np.asarray(est.noise_matrix, dtype=np.float64).copy()
    k = nm.shape[0]
    bad = ~np.isfinite(nm).all(axis=0) | (np.abs(nm.sum(axis=0) - 1.0) > 1e-3)
    nm[:, bad] = np.eye(k)[:, bad]
    return nm, est


def _full_columns(weights: list[dict[str, np.ndarray]], seen: np.ndarray, k: int) -> None:
    """Give networks that saw fewer than ``k`` classes an output column for every class."""
    if len(seen) == k:
        return
    for w in weights:
        last = "W1" if "W1" in w else "W0"
        bias = "b1" if "W1" in w else "b0"
        W = np.zeros((w[last].shape[0], k), dtype=np.float32)
        b = np.full(k, -30.0, dtype=np.float32)
        W[:, seen] = w[last]
        b[seen] = w[bias]
        w[last], w[bias] = W, b


def fit_for_calibration(
    X: Any,
    targets: np.ndarray,
    *,
    soft: bool = False,
    model: str = "logreg",
    loss: str = "ce",
    scheme: str = "plain",
    forget_rate: float = 0.2,
    epochs: int | None = None,
    early_stopping: bool = False,
    holdout: float | None = None,
    estimate_noise: bool = True,
    forward_noise_scale: float | str = "anchored",
    n_folds: int = N_FOLDS,
    X_unlabeled: Any = None,
    random_state: int = 0,
) -> FitForCalibration:
    """Train the end model and get out-of-sample probabilities to calibrate it on.

    Parameters
    ----------
    X : ndarray of shape (N, D), float32, or CSR matrix
    targets : ndarray of shape (N, K), float32
        One-hot given labels, or soft targets (``soft=True``).
    soft : bool
        Soft targets (a label model's posterior): no noise matrix is estimated (the
        posterior already models the noise) and a holdout split is used.
    model, loss, scheme, forget_rate, epochs, early_stopping
        The end model (see :func:`make_estimator`).
    holdout : float in (0, 0.5] or None
        ``None``: cross-fit ``n_folds`` models to predict every row out of sample, then
        fit the final model on all rows. A float: fit on ``1 - holdout`` of the rows and
        predict the rest. Soft targets, or a class with fewer than ``n_folds`` items,
        fall back to a holdout of 0.2.
    estimate_noise : bool
        Estimate the noise matrix by confident learning on cross-fitted CE probabilities
        (always done for ``loss="forward"``, which trains with it).
    forward_noise_scale : float, "mle" or "conservative"
        ``loss="forward"`` trains with ``(1 - s) I + s`` estimated matrix, ``s`` chosen
        on the CE cross-fit as in :class:`truelabel.calibrate.TemperatureScaling`.
    n_folds : int
    X_unlabeled : ndarray of shape (U, D) or CSR matrix, optional
        Rows without a label: the model is self-trained
        (:class:`~truelabel.learn._semi.SelfTrainingClassifier`, cross-entropy; ``loss``
        and ``scheme`` are not used). The final model decides with its drift guard
        whether the pseudo-labels are kept; each cross-fit fold's model then repeats
        that choice on the other folds' labeled rows (plus the unlabeled rows when kept),
        so calibration scores only labeled rows its model never saw, and pseudo-labels
        never enter them. The noise matrix, if asked, comes from those scores.
    random_state : int

    Returns
    -------
    FitForCalibration
    """
    from ..crossfit import cross_val_predict_proba
    from ._models import split_rows

    n, k = targets.shape
    hard = targets.argmax(axis=1)
    counts = np.bincount(hard, minlength=k)
    present = counts[counts > 0]
    notes: list[str] = []
    mode = "crossfit" if holdout is None else "holdout"
    if mode == "crossfit" and soft:
        mode, holdout = "holdout", FALLBACK_HOLDOUT
        notes.append("soft targets: calibrated on a 20% holdout")
    if mode == "crossfit" and present.min() < n_folds:
        mode, holdout = "holdout", FALLBACK_HOLDOUT
        notes.append(
            f"a class has {int(present.min())} items (< {n_folds} folds): calibrated on a 20% "
            "holdout"
        )
    if mode == "holdout":
        assert holdout is not None
        fit_rows, cal_rows = split_rows(hard, holdout, random_state=random_state)
        if len(np.unique(hard[fit_rows])) < 2:
            raise InputError("the training split holds a single class; add more labelled items.")
    else:
        fit_rows, cal_rows = np.arange(n), np.arange(n)

    def make(loss_: str, scheme_: str, nm: np.ndarray | None = None) -> Any:
        return make_estimator(
            model, loss_, scheme_, random_state, epochs, forget_rate, early_stopping, nm
        )

    nm, noise_est, fwd_nm = None, None, None
    ce_oof: np.ndarray | None = None
    semi = X_unlabeled is not None and X_unlabeled.shape[0] > 0
    if semi and soft:
        raise InputError("unlabeled rows cannot be combined with soft targets.")
    if semi and (loss != "ce" or scheme != "plain"):
        notes.append(
            f"self-training trains with cross-entropy: loss {loss!r} and scheme {scheme!r} not used"
        )
    want_noise = (estimate_noise and not soft) or loss == "forward"
    if semi:  # cross-fit: estimated from the calibration scores below, at no extra cost
        want_noise = estimate_noise and mode == "holdout"
    if want_noise:
        # confident learning on cross-fitted CE probabilities of the fit rows
        yf = hard[fit_rows]
        nf = n_folds if mode == "crossfit" else 3
        fit_counts = np.bincount(yf, minlength=k)
        if fit_counts[fit_counts > 0].min() >= nf and len(np.unique(yf)) >= 2:
            oof = cross_val_predict_proba(
                X[fit_rows],
                yf,
                n_classes=k,
                n_folds=nf,
                estimator=make("ce", "plain"),
                random_state=random_state,
            )
            nm, noise_est = _noise_from_probs(yf, oof)
            if mode == "crossfit":
                ce_oof = oof
            if loss == "forward":  # train with as much of the matrix as the data support
                from ..calibrate import TemperatureScaling

                ts = TemperatureScaling(noise_matrix=nm, noise_scale=forward_noise_scale)
                fwd_nm = ts.fit(oof, yf).noise_matrix_
            logger.info("estimated label noise rate %.3f", float(noise_est.noise_rate))
        else:
            notes.append(
                f"a class has fewer than {nf} items: no noise matrix estimated (labels "
                "treated as clean)"
            )
            if loss == "forward":
                raise InputError(
                    f"loss 'forward' needs at least {nf} items of every class to estimate "
                    "the noise matrix; use another loss."
                )
    fwd = fwd_nm if loss == "forward" else None
    y_fit: np.ndarray = targets[fit_rows] if soft else hard[fit_rows]
    if scheme == "prune" and soft:
        y_fit = hard[fit_rows]
    cal: np.ndarray | None = None
    st = None
    if semi:
        est, st, cal = _fit_self_training(
            X, hard, X_unlabeled, fit_rows, k, make("ce", "plain"), mode, n_folds, random_state
        )
        if cal is not None and estimate_noise:
            nm, noise_est = _noise_from_probs(hard, cal)
            logger.info("estimated label noise rate %.3f", float(noise_est.noise_rate))
    elif mode == "crossfit":
        if ce_oof is not None and loss == "ce" and scheme == "plain":
            cal = ce_oof  # the noise estimate's cross-fit is this model's cross-fit
        else:
            cal = cross_val_predict_proba(
                X,
                hard,
                n_classes=k,
                n_folds=n_folds,
                estimator=make(loss, scheme, fwd),
                random_state=random_state,
            )
        est = make(loss, scheme, fwd).fit(X, y_fit)
    else:
        est = make(loss, scheme, fwd).fit(X[fit_rows], y_fit)
    inner = getattr(est, "estimator_", est)
    weights = inner.weights_
    _full_columns(weights, np.asarray(inner.classes_, dtype=np.int64), k)
    if cal is None:
        from .._numeric import softmax
        from ._models import forward_numpy

        Xc = X[cal_rows]
        p = sum(softmax(forward_numpy(Xc, w).astype(np.float64)) for w in weights)
        cal = np.asarray(p, dtype=np.float64) / len(weights)
    return FitForCalibration(
        weights=weights,
        estimator=est,
        cal_rows=np.asarray(cal_rows),
        cal_probs=np.asarray(cal, dtype=np.float32),
        noise_matrix=nm,
        noise_estimate=noise_est,
        mode=mode,
        n_fit=len(fit_rows),
        note="; ".join(notes),
        self_training=st,
    )


def _fit_self_training(
    X: Any,
    hard: np.ndarray,
    X_unlabeled: Any,
    fit_rows: np.ndarray,
    k: int,
    net: Any,
    mode: str,
    n_folds: int,
    random_state: int,
) -> tuple[Any, Any, np.ndarray | None]:
    """Self-train the final model; with ``mode="crossfit"`` also cross-fit its scores.

    Returns the final estimator, the SelfTrainingClassifier and the out-of-fold
    probabilities of every labeled row (None for a holdout: predicted by the caller).
    """
    import scipy.sparse as sp

    from ..crossfit import fold_ids
    from ._semi import SelfTrainingClassifier

    def stack(Xl: Any, with_unlabeled: bool) -> tuple[Any, int]:
        if not with_unlabeled:
            return Xl, 0
        if sp.issparse(Xl):
            return sp.vstack([Xl, X_unlabeled]).tocsr(), X_unlabeled.shape[0]
        return np.vstack([Xl, np.asarray(X_unlabeled)]), X_unlabeled.shape[0]

    def fit_st(rows: np.ndarray, with_unlabeled: bool, guard: bool) -> Any:
        Xs, n_u = stack(X[rows], with_unlabeled)
        codes = np.concatenate([hard[rows], np.full(n_u, -1, dtype=np.int64)])
        return SelfTrainingClassifier(net, drift_guard=guard, random_state=random_state).fit(
            Xs, codes, n_classes=k
        )

    st = fit_st(fit_rows, True, True)
    if mode != "crossfit":
        return st, st, None
    # each fold's model: as the final one (pseudo-labels kept or not by its guard), fitted
    # without the fold's labeled rows; only labeled rows are scored
    fold = fold_ids(hard, n_folds, random_state)
    cal = np.zeros((len(hard), k), dtype=np.float64)
    for i in range(n_folds):
        te = np.flatnonzero(fold == i)
        m = fit_st(np.flatnonzero(fold != i), bool(st.accepted_), False)
        cal[te] = m.predict_proba(X[te])
    return st, st, cal


def calibrate_fit(
    probs: np.ndarray,
    labels: np.ndarray,
    *,
    noise_matrix: np.ndarray | None = None,
    calibrate: bool = True,
    noise_scale: float | str = 1.0,
    noise_correction: str = "invert",
    alphas: Sequence[float] = (0.1, 0.05),
    conformal: str = "marginal",
    random_state: int = 0,
    class_names: Sequence[str] | None = None,
) -> CalibratedFit:
    """Fit a temperature and conformal thresholds on out-of-sample probabilities.

    Parameters
    ----------
    probs : ndarray of shape (M, K)
        Uncalibrated out-of-sample probabilities (:attr:`FitForCalibration.cal_probs`).
    labels : ndarray of shape (M,), int, or (M, K) soft targets
        Given labels of those rows.
    noise_matrix : ndarray of shape (K, K), optional
        ``P(given = i | true = j)``. When given, the temperature is noise-aware and the
        conformal thresholds target the true labels (``noise_correction``).
    calibrate : bool
        Fit a temperature (else 1).
    noise_scale : float in [0, 1], "mle" or "conservative"
        How much of ``noise_matrix`` to believe (see
        :class:`truelabel.calibrate.TemperatureScaling`); the conformal thresholds use
        the same scaled matrix.
    noise_correction : {"invert", "posterior", "none"}
        See :func:`truelabel.calibrate.true_label_weights`; ``"none"`` calibrates the
        conformal thresholds on the given labels as if they were true.
    alphas : sequence of float
    conformal : {"marginal", "class", "clustered"}
    random_state : int
    class_names : sequence of str, optional
        For warnings.

    Returns
    -------
    CalibratedFit
    """
    from .._numeric import softmax
    from ..calibrate import ConformalClassifier, TemperatureScaling

    if noise_correction not in NOISE_CORRECTIONS:
        raise InputError(
            f"unknown noise correction {noise_correction!r}; choose one of "
            f"{', '.join(NOISE_CORRECTIONS)}."
        )
    p_raw = np.asarray(probs, dtype=np.float64)
    k = p_raw.shape[1]
    soft = np.ndim(labels) == 2
    hard = np.asarray(labels).argmax(axis=1) if soft else np.asarray(labels)
    temperature = 1.0
    nm_used = None
    if calibrate or (noise_matrix is not None and not soft):
        ts = TemperatureScaling(
            noise_matrix=None if soft else noise_matrix, noise_scale=noise_scale
        ).fit(p_raw, labels)
        nm_used = ts.noise_matrix_
        if calibrate:
            temperature = float(ts.temperature_)
    p_cal = p_raw
    if temperature != 1.0:
        p_cal = softmax(np.log(np.clip(p_raw, 1e-12, 1.0)) / temperature)
    p_out: Float32Array = np.asarray(p_cal, dtype=np.float32)
    use_nm = nm_used is not None and noise_correction != "none"
    if use_nm and conformal == "clustered":
        raise InputError(
            "clustered conformal thresholds cannot correct for label noise; use --conformal "
            "marginal or class, or --label-noise none to treat the given labels as true."
        )
    cc_mode: bool | str = "clustered" if conformal == "clustered" else conformal == "class"
    qs = []
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    for a in alphas:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cc = ConformalClassifier(
                score="lac",
                alpha=float(a),
                class_conditional=cc_mode,
                random_state=random_state,
                noise_matrix=nm_used if use_nm else None,
                noise_correction=noise_correction if use_nm else "invert",
                include_top=True,
            ).fit(p_out, labels if soft and conformal != "clustered" else hard)
        for w in caught:
            if issubclass(w.category, UserWarning):
                msg = str(w.message)
                fb = getattr(cc, "fallback_classes_", None)
                if fb is not None and fb.size:
                    listed = ", ".join(names[int(c)] for c in fb[:20])
                    more = f" and {fb.size - 20} more" if fb.size > 20 else ""
                    msg = (
                        f"clustered conformal at alpha={a}: {fb.size} of {len(names)} classes "
                        f"have too few held-out items to be clustered and use the marginal "
                        f"threshold: {listed}{more}."
                    )
                warnings.warn(msg, UserWarning, stacklevel=2)
        qs.append([float(v) for v in cc.quantiles_])
    conf = {
        "score": "lac",
        "mode": conformal,
        "alphas": [float(a) for a in alphas],
        "quantiles": qs,
        "include_top": True,
        "noise_correction": noise_correction if use_nm else "none",
    }
    return CalibratedFit(
        temperature=temperature,
        conformal=conf,
        cal_probs=p_out,
        noise_matrix=nm_used,
        noise_scale=float(ts.noise_scale_) if nm_used is not None else 0.0,
        noise_scale_cap=getattr(ts, "noise_scale_cap_", None) if nm_used is not None else None,
    )
