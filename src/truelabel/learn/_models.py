"""Noise-robust end models: multinomial logistic regression and an MLP head (PyTorch, CPU).

Both accept hard labels or soft targets (an (N, K) posterior), a robust loss
(``ce``, ``gce``, ``sce``, ``elr``) and a training scheme (``plain``, ``smallloss``,
``coteach``). Prediction runs in NumPy from the fitted weights, so a loaded model
needs no torch.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import validate_data

from .._errors import InputError, NotFittedError
from .._types import Float32Array
from .._validation import Interval, Options, check_params, check_pred_probs, check_random_state

__all__ = ["RobustLogisticRegression", "RobustMLPClassifier", "forward_numpy", "softmax_np"]

logger = logging.getLogger(__name__)


def softmax_np(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax in the input's float dtype."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward_numpy(X: Any, weights: dict[str, np.ndarray]) -> np.ndarray:
    """Logits of a fitted network from its weights, NumPy only.

    Parameters
    ----------
    X : ndarray of shape (N, D) or CSR matrix
    weights : dict
        ``W0, b0`` for a linear model; ``W0, b0, W1, b1`` for an MLP head (ReLU hidden
        layer); with co-teaching, ``net1.*`` holds the second network and the logits of
        the two are averaged in probability space by the caller.

    Returns
    -------
    logits : ndarray of shape (N, K), float32
    """
    h = X @ weights["W0"] + weights["b0"]
    h = np.asarray(h, dtype=np.float32)
    if "W1" in weights:
        h = np.maximum(h, 0.0) @ weights["W1"] + weights["b1"]
    return np.asarray(h, dtype=np.float32)


def split_rows(
    y: np.ndarray, test_size: int | float, *, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into (fit, held out), stratified by ``y`` when every class allows it.

    Parameters
    ----------
    y : ndarray of shape (N,), int
        Class index of each row.
    test_size : int or float
        Held-out rows (int) or share of the rows (float, rounded up).
    random_state : int

    Returns
    -------
    fit, held : ndarray of int
        Row indices in ``train_test_split``'s order. Stratified when every present
        class has at least 2 rows and both parts can hold one row of each class;
        otherwise a plain random split.
    """
    from sklearn.model_selection import train_test_split

    n = len(y)
    n_test = test_size if isinstance(test_size, int) else int(np.ceil(test_size * n))
    present = np.bincount(y)
    present = present[present > 0]
    k = len(present)
    stratify = y if present.min() >= 2 and n_test >= k and n - n_test >= k else None
    fit, held = train_test_split(
        np.arange(n), test_size=n_test, random_state=random_state, stratify=stratify
    )
    return fit, held


class EstimatorNotFittedError(NotFittedError, SklearnNotFittedError):
    """Raised by ``predict``/``predict_proba`` before ``fit``; also scikit-learn's type."""


def _as_input_error(exc: ValueError) -> InputError:
    return InputError(f"{exc} Pass finite numbers, one row per item.")


def _is_matrix(value: Any) -> bool:
    """a (K, K) array-like"""
    return np.ndim(value) == 2


class _RobustBase(ClassifierMixin, BaseEstimator):
    """Shared trainer. Subclasses set ``_hidden`` (0 for a linear model)."""

    _constraints: dict[str, list[Any]] = {
        "loss": [Options(("ce", "gce", "sce", "elr", "forward"))],
        "scheme": [Options(("plain", "smallloss", "coteach"))],
        "epochs": [Interval(int, 1, None)],
        "batch_size": [Interval(int, 1, None)],
        "lr": [Interval(float, 0, None, closed="neither")],
        "weight_decay": [Interval(float, 0, None)],
        "dropout": [Interval(float, 0, 1, closed="left")],
        "forget_rate": [Interval(float, 0, 1, closed="left")],
        "ramp_epochs": [Interval(int, 0, None)],
        "gce_q": [Interval(float, 0, 1, closed="right")],
        "sce_alpha": [Interval(float, 0, None)],
        "sce_beta": [Interval(float, 0, None)],
        "elr_lambda": [Interval(float, 0, None)],
        "elr_beta": [Interval(float, 0, 1, closed="left")],
        "noise_matrix": [None, _is_matrix],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(float, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(int, 1, None)],
        "random_state": ["random_state"],
    }

    def _hidden_size(self) -> int:
        return 0

    # ------------------------------------------------------------------ data
    def _check_X(self, X: Any, *, reset: bool) -> Any:
        try:
            Xv = validate_data(
                self, X, accept_sparse="csr", dtype=[np.float32, np.float64], reset=reset
            )
        except ValueError as exc:
            raise _as_input_error(exc) from None
        if sp.issparse(Xv):
            return sp.csr_matrix(Xv, dtype=np.float32)
        return np.ascontiguousarray(Xv, dtype=np.float32)

    def _targets(self, y: Any, n: int) -> np.ndarray:
        """Set ``classes_`` and return float32 targets of shape (N, K)."""
        if y is None:
            raise InputError(
                f"{type(self).__name__} requires y to be passed, but the target y is None; "
                "pass labels (N,) or soft targets (N, K)."
            )
        arr = np.asarray(y)
        if arr.ndim == 2 and arr.dtype.kind == "f" and arr.shape[1] > 1:
            t = check_pred_probs(arr, n_rows=n, name="y (soft targets)")
            self.classes_ = np.arange(arr.shape[1])
            self.soft_targets_ = True
            return np.asarray(t, dtype=np.float32)
        if arr.ndim == 2 and arr.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it was raveled.",
                DataConversionWarning,
                stacklevel=3,
            )
            arr = arr.ravel()
        if arr.ndim != 1:
            raise InputError(
                f"y must be labels of shape (N,) or soft targets of shape (N, K); got shape "
                f"{arr.shape}."
            )
        if arr.shape[0] != n:
            raise InputError(f"y has {arr.shape[0]} entries but X has {n} rows.")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise InputError("y contains NaN or infinite values; every item needs a label.")
        if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
            raise InputError(
                "y holds non-integer floats (a continuous target); this is a classifier — pass class labels, or "
                "soft targets of shape (N, K)."
            )
        classes, codes = np.unique(arr, return_inverse=True)
        if len(classes) < 2:
            raise InputError(
                f"y holds only one class ({classes[0]!r}); a classifier needs at least 2."
            )
        self.classes_ = classes
        self.soft_targets_ = False
        t = np.zeros((n, len(classes)), dtype=np.float32)
        t[np.arange(n), codes.ravel()] = 1.0
        return t

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> _RobustBase:
        """Train on hard labels or soft targets.

        Parameters
        ----------
        X : ndarray of shape (N, D) or CSR matrix, float
            Features.
        y : ndarray of shape (N,) with class labels, or (N, K) float soft targets
            whose rows sum to 1 (a label model's posterior, a teacher's probabilities).

        Returns
        -------
        self

        Raises
        ------
        InputError
            Bad shapes, NaN, soft targets that do not sum to 1, a single class, or a
            diverging run (NaN loss) — then no model is kept.
        """
        check_params(self)
        for attr in ("weights_", "n_epochs_", "loss_curve_", "validation_scores_", "best_epoch_"):
            self.__dict__.pop(attr, None)
        Xc = self._check_X(X, reset=True)
        t = self._targets(y, Xc.shape[0])
        self._check_noise_matrix(t.shape[1])
        return self._fit_arrays(Xc, t)

    def fit_objective(self, X: Any, n_classes: int, objective: Any) -> _RobustBase:
        """Train on a weak-supervision objective instead of per-item targets.

        Used by :class:`~truelabel.learn.PUClassifier`,
        :class:`~truelabel.learn.PartialLabelClassifier` and
        :class:`~truelabel.learn.LabelProportionClassifier`; ``loss``, ``scheme`` and
        ``early_stopping`` are ignored (the objective defines the risk).

        Parameters
        ----------
        X : ndarray of shape (N, D) or CSR matrix
        n_classes : int
            Output columns; ``classes_`` becomes ``arange(n_classes)``.
        objective : object with ``batches(n, batch_size, g)`` and ``loss(logits, idx, epoch)``
            See :func:`truelabel.learn._train.train_network`.

        Returns
        -------
        self
        """
        check_params(self)
        for attr in ("weights_", "n_epochs_", "loss_curve_", "validation_scores_", "best_epoch_"):
            self.__dict__.pop(attr, None)
        Xc = self._check_X(X, reset=True)
        self.classes_ = np.arange(int(n_classes))
        self.soft_targets_ = True
        t = np.zeros((Xc.shape[0], int(n_classes)), dtype=np.float32)
        return self._fit_arrays(Xc, t, objective)

    def _fit_arrays(self, Xc: Any, t: np.ndarray, objective: Any = None) -> _RobustBase:
        """Train on checked features and (N, K) targets (or an objective)."""
        import torch

        from ._train import train_network

        rng = check_random_state(self.random_state)
        seed = int(rng.integers(0, 2**31 - 1))
        validation = None
        if self.early_stopping and objective is None:
            fit_rows, val_rows = self._validation_split(t, rng)
            validation = (Xc[val_rows], t[val_rows].argmax(axis=1))
            Xc, t = Xc[fit_rows], t[fit_rows]
        with torch.inference_mode(False):
            nets, curve, scores = train_network(
                Xc,
                t,
                hidden=self._hidden_size(),
                params=self.get_params(),
                seed=seed,
                name=type(self).__name__,
                validation=validation,
                objective=objective,
            )
        self.weights_ = nets
        self.loss_curve_ = curve
        self.n_epochs_ = len(curve)
        self.validation_scores_ = scores
        self.best_epoch_ = int(np.argmax(scores)) + 1 if scores else len(curve)
        return self

    def _validation_split(
        self, t: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row indices (fit, held out) for early stopping, stratified by label."""
        n = t.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 2:
            raise InputError(
                f"early_stopping holds out {self.validation_fraction:.0%} of {n} rows, which "
                "leaves no rows to score or to fit; pass more rows or early_stopping=False."
            )
        fit_rows, val_rows = split_rows(
            t.argmax(axis=1), n_val, random_state=int(rng.integers(0, 2**31 - 1))
        )
        return np.sort(fit_rows), np.sort(val_rows)

    def _check_noise_matrix(self, k: int) -> None:
        nm = self.noise_matrix
        if nm is None:
            if self.loss == "forward":
                raise InputError(
                    "loss='forward' needs noise_matrix (K, K) with noise_matrix[i, j] = "
                    "P(given = i | true = j); estimate it with "
                    "truelabel.audit.estimate_noise_matrices(labels, cross-fitted probs)."
                )
            return
        m = np.asarray(nm, dtype=np.float64)
        if m.shape != (k, k):
            raise InputError(f"noise_matrix must have shape ({k}, {k}); got {m.shape}.")
        if not np.all(np.isfinite(m)) or (m < 0).any() or np.abs(m.sum(axis=0) - 1).max() > 1e-3:
            raise InputError(
                "noise_matrix must hold finite non-negative probabilities whose columns sum "
                "to 1 (noise_matrix[i, j] = P(given = i | true = j))."
            )

    # ------------------------------------------------------------------ predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise EstimatorNotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X, y) first."
            )

    def predict_proba(self, X: Any) -> Float32Array:
        """Class probabilities, shape (N, K), float32; columns follow ``classes_``."""
        self._check_fitted()
        Xc = self._check_X(X, reset=False)
        probs = [softmax_np(forward_numpy(Xc, w)) for w in self.weights_]
        return np.asarray(sum(probs) / len(probs), dtype=np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row, shape (N,); ties go to the lowest class."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_)[proba.argmax(axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = False
        return tags


class RobustLogisticRegression(_RobustBase):
    """Multinomial logistic regression trained with a noise-robust loss and scheme.

    Parameters
    ----------
    loss : {"ce", "gce", "sce", "elr", "forward"}, default "ce"
        Cross-entropy; generalized CE (``gce_q``); symmetric CE (``sce_alpha``,
        ``sce_beta``); CE plus early-learning regularisation (``elr_lambda``, ``elr_beta``);
        forward-corrected CE (``noise_matrix``).
    scheme : {"plain", "smallloss", "coteach"}, default "plain"
        ``smallloss`` trains each batch on its ``1 - forget_rate`` lowest-loss items;
        ``coteach`` trains two models with input dropout (feature compression), each on
        the items the *other* finds easy, and averages their probabilities.
    epochs : int, default 30
    batch_size : int, default 256
    lr : float, default 0.01
        Adam learning rate.
    weight_decay : float, default 1e-4
    dropout : float, default 0.0
        Input-feature dropout while training (co-teaching uses ``max(dropout, 0.2)``).
    forget_rate : float, default 0.2
        Share of each batch dropped by ``smallloss``/``coteach`` (set it near the noise
        rate); reached linearly after ``ramp_epochs``.
    ramp_epochs : int, default 10
    gce_q : float, default 0.7
    sce_alpha, sce_beta : float, default 0.1, 1.0
    elr_lambda : float, default 3.0
    elr_beta : float, default 0.7
        Momentum of ELR's running targets.
    noise_matrix : ndarray of shape (K, K) or None, default None
        For ``loss="forward"`` (forward correction, Patrini et al. 2017):
        ``noise_matrix[i, j] = P(given = i | true = j)``, e.g. the ``noise_matrix`` of
        :func:`truelabel.audit.estimate_noise_matrices` on cross-fitted probabilities.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the rows (stratified by label, labels as
        given — noisy), score the model on them after every epoch, stop after
        ``n_iter_no_change`` epochs without a better held-out accuracy and keep the
        best epoch's weights. The classic guard against memorising noisy labels: the
        accuracy on noisy held-out labels peaks when the clean signal is learned.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
    random_state : int, Generator or None, default 0
        Seeds weight initialisation, batch order and dropout through a local
        ``torch.Generator`` (the global torch seed is never touched).

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    weights_ : list of dict of ndarray
        One dict per network (two with co-teaching): ``W0`` (D, K), ``b0`` (K,).
    loss_curve_ : list of float
        Mean training loss per epoch.
    n_epochs_ : int
        Epochs run (fewer than ``epochs`` when early stopping stopped the run).
    validation_scores_ : list of float
        With ``early_stopping``: held-out accuracy after each epoch (else empty).
    best_epoch_ : int
        With ``early_stopping``: the epoch (1-based) whose weights were kept; else
        ``n_epochs_``.
    n_features_in_ : int
    """

    def __init__(
        self,
        *,
        loss: str = "ce",
        scheme: str = "plain",
        epochs: int = 30,
        batch_size: int = 256,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
        dropout: float = 0.0,
        forget_rate: float = 0.2,
        ramp_epochs: int = 10,
        gce_q: float = 0.7,
        sce_alpha: float = 0.1,
        sce_beta: float = 1.0,
        elr_lambda: float = 3.0,
        elr_beta: float = 0.7,
        noise_matrix: Any = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.loss = loss
        self.scheme = scheme
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.forget_rate = forget_rate
        self.ramp_epochs = ramp_epochs
        self.gce_q = gce_q
        self.sce_alpha = sce_alpha
        self.sce_beta = sce_beta
        self.elr_lambda = elr_lambda
        self.elr_beta = elr_beta
        self.noise_matrix = noise_matrix
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state


class RobustMLPClassifier(_RobustBase):
    """One-hidden-layer MLP head (ReLU) trained with a noise-robust loss and scheme.

    Parameters
    ----------
    hidden_size : int, default 256
    dropout : float, default 0.2
        Dropout on the inputs and on the hidden layer while training.
    loss, scheme, epochs, batch_size, lr, weight_decay, forget_rate, ramp_epochs,
    gce_q, sce_alpha, sce_beta, elr_lambda, elr_beta, noise_matrix, early_stopping,
    validation_fraction, n_iter_no_change, random_state
        As in :class:`RobustLogisticRegression`.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    weights_ : list of dict of ndarray
        ``W0`` (D, H), ``b0`` (H,), ``W1`` (H, K), ``b1`` (K,) per network.
    loss_curve_ : list of float
    n_features_in_ : int
    """

    _constraints = {**_RobustBase._constraints, "hidden_size": [Interval(int, 1, None)]}

    def __init__(
        self,
        *,
        hidden_size: int = 256,
        loss: str = "ce",
        scheme: str = "plain",
        epochs: int = 30,
        batch_size: int = 256,
        lr: float = 0.003,
        weight_decay: float = 1e-4,
        dropout: float = 0.2,
        forget_rate: float = 0.2,
        ramp_epochs: int = 10,
        gce_q: float = 0.7,
        sce_alpha: float = 0.1,
        sce_beta: float = 1.0,
        elr_lambda: float = 3.0,
        elr_beta: float = 0.7,
        noise_matrix: Any = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.hidden_size = hidden_size
        self.loss = loss
        self.scheme = scheme
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.forget_rate = forget_rate
        self.ramp_epochs = ramp_epochs
        self.gce_q = gce_q
        self.sce_alpha = sce_alpha
        self.sce_beta = sce_beta
        self.elr_lambda = elr_lambda
        self.elr_beta = elr_beta
        self.noise_matrix = noise_matrix
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    def _hidden_size(self) -> int:
        return int(self.hidden_size)
