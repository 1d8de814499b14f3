"""Semi-supervised learning: a few labeled rows and many unlabeled ones.

:class:`SelfTrainingClassifier` (truelabel's, not scikit-learn's) runs the shared
self-training engine (:func:`truelabel.crossfit.self_train_proba`): cross-fitted
pseudo-labels chosen by per-class self-adaptive thresholds (FreeMatch's rule) and
weighted by their confidence, refit for a few rounds. A drift guard trains the final
network with and without the pseudo-labels on four fifths of the labeled rows, scores
both on the other fifth, and keeps the labeled-only model when the pseudo-labels hurt. The final network (the robust
logistic regression or MLP head) is fitted on the labeled rows plus the
confidence-weighted pseudo-labels.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from .._errors import InputError, NotFittedError
from .._types import Float32Array
from .._validation import Interval, Options, check_params, check_random_state

__all__ = ["SelfTrainingClassifier", "featurize_unlabeled", "split_unlabeled"]

logger = logging.getLogger(__name__)


class SelfTrainingClassifier(ClassifierMixin, BaseEstimator):
    """Train on labeled rows plus confidence-weighted pseudo-labels of unlabeled rows.

    Parameters
    ----------
    estimator : RobustLogisticRegression or RobustMLPClassifier, optional
        The final network. Default :class:`RobustLogisticRegression`.
    n_rounds : int, default 2
        Self-training rounds (pseudo-label, refit, relabel out of fold).
    select : {"dynamic", "quota"}, default "dynamic"
        Per-class self-adaptive thresholds, or zero-shot labeling's balanced quota.
    C : float, default 1.0
        Inverse L2 strength of the cross-fitted logistic regressions that make the
        pseudo-labels.
    n_folds : int, default 5
    drift_guard : bool, default True
        Keep the labeled-only model when the pseudo-labels lower the accuracy of the
        final network on held-out labeled rows (a fifth of them; the pseudo-labels were
        made with every label, so the check leans towards accepting).
    random_state : int, Generator or None, default 0

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
        ``arange(K)``.
    pseudo_proba_ : ndarray of shape (N, K), float32
        Out-of-fold probabilities of the last round (labeled rows included).
    pseudo_mask_ : ndarray of shape (N,), bool
        Unlabeled rows whose pseudo-label trained the final network.
    accepted_ : bool
        False when the drift guard kept the labeled-only model.
    labeled_oof_accuracy_ : dict
        ``{"labeled_only": a, "with_pseudo_labels": b}``: held-out labeled accuracy of
        the network without and with the pseudo-labels (the guard's evidence).
    estimator_ : the fitted network
    """

    _constraints = {
        "n_rounds": [Interval(int, 1, None)],
        "select": [Options(("dynamic", "quota"))],
        "C": [Interval(float, 0, None, closed="neither")],
        "n_folds": [Interval(int, 2, None)],
        "drift_guard": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any = None,
        *,
        n_rounds: int = 2,
        select: str = "dynamic",
        C: float = 1.0,
        n_folds: int = 5,
        drift_guard: bool = True,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.estimator = estimator
        self.n_rounds = n_rounds
        self.select = select
        self.C = C
        self.n_folds = n_folds
        self.drift_guard = drift_guard
        self.random_state = random_state

    def fit(self, X: Any, y: Any, n_classes: int | None = None) -> SelfTrainingClassifier:
        """Fit on labeled and unlabeled rows.

        Parameters
        ----------
        X : ndarray of shape (N, D) or CSR matrix
        y : ndarray of shape (N,), int
            Class codes 0..K-1, and -1 for an unlabeled row.
        n_classes : int, optional
            K; default ``y.max() + 1``.

        Returns
        -------
        self
        """
        from ..crossfit import self_train_proba
        from ._models import RobustLogisticRegression
        from ._weak_losses import WeightedCrossEntropy

        check_params(self)
        yy = np.asarray(y)
        if yy.ndim != 1 or yy.shape[0] != X.shape[0] or yy.dtype.kind not in "iu":
            raise InputError(
                f"y must be integer class codes of shape ({X.shape[0]},) with -1 for "
                "unlabeled rows."
            )
        lab = yy >= 0
        K = int(n_classes) if n_classes is not None else int(yy.max()) + 1
        if lab.sum() < 2 or len(np.unique(yy[lab])) < 2:
            raise InputError(
                f"semi-supervised training needs labeled rows of at least 2 classes; got "
                f"{int(lab.sum())} labeled rows."
            )
        rng = check_random_state(self.random_state)
        base = self.estimator if self.estimator is not None else RobustLogisticRegression()
        first = clone(base).set_params(random_state=int(rng.integers(0, 2**31 - 1)))
        onehot = np.eye(K, dtype=np.float32)
        t_lab = onehot[yy[lab]]
        first.fit_objective(X[lab], K, WeightedCrossEntropy(t_lab, np.ones(int(lab.sum()))))
        self.classes_ = np.arange(K)
        self.n_features_in_ = X.shape[1]
        if lab.all():
            self.estimator_, self.accepted_ = first, False
            self.pseudo_proba_ = onehot[yy]
            self.pseudo_mask_ = np.zeros(len(yy), dtype=bool)
            self.labeled_oof_accuracy_: dict[str, float] = {}
            return self
        from ..crossfit import dynamic_thresholds

        seed = int(rng.integers(0, 2**31 - 1))

        def pseudo_labels(model: Any, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """Self-trained probabilities from the labels of ``known`` rows only, and the
            unlabeled rows confident enough to keep."""
            P0 = np.asarray(model.predict_proba(X), dtype=np.float32)
            P0[known] = onehot[yy[known]]
            P, _ = self_train_proba(
                X,
                P0,
                n_rounds=self.n_rounds,
                n_folds=self.n_folds,
                C=self.C,
                random_state=seed,
                labeled=known,
                select=self.select,
                weighted=True,
            )
            conf = P.max(axis=1)
            return P, ~lab & (conf >= dynamic_thresholds(P[~lab])[P.argmax(axis=1)])

        P, keep = pseudo_labels(first, lab)
        self.pseudo_proba_ = P
        pred = P.argmax(axis=1)
        targets = onehot[np.where(lab, np.maximum(yy, 0), pred)]
        weights = np.where(lab, 1.0, P.max(axis=1))
        self.labeled_oof_accuracy_ = {}
        if self.drift_guard:
            # the final network with and without pseudo-labels, scored on held-out labeled
            # rows (a fifth of them) whose labels the guard's own pseudo-labels never saw:
            # the first model and the self-training are redone without them
            hold = np.zeros(len(yy), dtype=bool)
            lab_idx = np.flatnonzero(lab)
            hold[rng.choice(lab_idx, max(1, len(lab_idx) // 5), replace=False)] = True
            fit_l = lab & ~hold
            first_g = clone(base).set_params(random_state=seed)
            first_g.fit_objective(
                X[fit_l], K, WeightedCrossEntropy(onehot[yy[fit_l]], np.ones(int(fit_l.sum())))
            )
            P_g, keep_g = pseudo_labels(first_g, fit_l)
            targets_g = onehot[np.where(lab, np.maximum(yy, 0), P_g.argmax(axis=1))]
            weights_g = np.where(lab, 1.0, P_g.max(axis=1))
            scores = {}
            for key, rows_g in (("labeled_only", fit_l), ("with_pseudo_labels", fit_l | keep_g)):
                net = clone(base).set_params(random_state=seed)
                net.fit_objective(
                    X[rows_g], K, WeightedCrossEntropy(targets_g[rows_g], weights_g[rows_g])
                )
                scores[key] = float((net.predict(X[hold]) == yy[hold]).mean())
            self.labeled_oof_accuracy_ = scores
            if scores["with_pseudo_labels"] < scores["labeled_only"]:
                warnings.warn(
                    "self-training drifted: pseudo-labels lowered the accuracy on held-out "
                    f"labeled rows ({scores['labeled_only']:.3f} -> "
                    f"{scores['with_pseudo_labels']:.3f}); kept the model trained on the "
                    "labeled rows alone.",
                    UserWarning,
                    stacklevel=2,
                )
                self.estimator_, self.accepted_ = first, False
                self.pseudo_mask_ = np.zeros(len(yy), dtype=bool)
                return self
        rows = lab | keep
        est = clone(base).set_params(random_state=int(rng.integers(0, 2**31 - 1)))
        est.fit_objective(X[rows], K, WeightedCrossEntropy(targets[rows], weights[rows]))
        self.estimator_, self.accepted_ = est, True
        self.pseudo_mask_ = keep
        logger.info(
            "self-training: %d of %d unlabeled rows pseudo-labeled (%s)",
            int(keep.sum()),
            int((~lab).sum()),
            self.labeled_oof_accuracy_,
        )
        return self

    def summary(self) -> dict[str, Any]:
        """What self-training did (recorded in ``model.json``)."""
        return {
            "accepted": bool(self.accepted_),
            "n_pseudo_labeled": int(self.pseudo_mask_.sum()),
            "guard_heldout_accuracy": {k: float(v) for k, v in self.labeled_oof_accuracy_.items()},
            "select": self.select,
            "n_rounds": self.n_rounds,
        }

    def predict_proba(self, X: Any) -> Float32Array:
        """Class probabilities, shape (N, K), float32."""
        if not hasattr(self, "estimator_"):
            raise NotFittedError("This SelfTrainingClassifier is not fitted yet; call fit first.")
        return np.asarray(self.estimator_.predict_proba(X), dtype=np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class index, shape (N,)."""
        return self.predict_proba(X).argmax(axis=1)


def split_unlabeled(
    data: Any, label_column: str | None, unlabeled: str
) -> tuple[Any, pd.DataFrame | None, int]:
    """Separate the rows whose label is empty (the unlabeled rows of ``train``).

    Parameters
    ----------
    data : path or DataFrame
    label_column : str or None
        None: nothing to split (labels come from a table).
    unlabeled : {"self-train", "drop"}

    Returns
    -------
    data : the labeled rows (a DataFrame when some rows were split off, else ``data``)
    unlabeled : DataFrame of the unlabeled rows for ``self-train``, else None
    n_unlabeled : int
        Rows without a label (self-trained on, or dropped).
    """
    from ..io import read_table
    from ..io._dataset import missing_values

    if unlabeled not in ("self-train", "drop"):
        raise InputError(f"unlabeled must be 'self-train' or 'drop'; got {unlabeled!r}.")
    if label_column is None:
        return data, None, 0
    frame = read_table(data)
    if label_column not in frame.columns:
        return data, None, 0  # load_dataset names the missing column
    miss = missing_values(frame[label_column])
    if not miss.any() or miss.all():
        return data, None, 0  # all labeled, or none: load_dataset says what to do
    labeled = frame.loc[~miss].reset_index(drop=True)
    logger.info("%d of %d rows have no label (%s)", int(miss.sum()), len(frame), unlabeled)
    if unlabeled == "drop":
        return labeled, None, int(miss.sum())
    return labeled, frame.loc[miss].reset_index(drop=True), int(miss.sum())


def featurize_unlabeled(
    unlabeled: pd.DataFrame,
    spec: dict[str, Any],
    tfidf_spec: dict[str, Any] | None,
    text_column: str | None,
    n_features: int,
) -> Any:
    """Featurize the unlabeled rows with the featurizer fitted on the labeled ones.

    Parameters
    ----------
    unlabeled : DataFrame of the unlabeled rows (same columns as the data)
    spec, tfidf_spec : the fitted featurizer (as stored in ``model.json``)
    text_column : the text column (text featurizers)
    n_features : D, the width of the labeled rows' features

    Returns
    -------
    X_unlabeled : ndarray of shape (U, D), float32, or CSR matrix
    """
    from ._artifact import TrainedModel

    probe = TrainedModel(
        classes=[],
        featurizer=spec,
        weights=[{"W0": np.zeros((n_features, 1), dtype=np.float32)}],
        temperature=1.0,
        conformal={"alphas": []},
        tfidf=tfidf_spec,
    )
    name = spec["name"]
    if name == "tabular":
        return probe.featurize_frame(unlabeled)
    if name == "vectors":
        raise InputError(
            "unlabeled rows with --featurizer vectors are not supported; drop them "
            "(--unlabeled drop) or fill their labels."
        )
    if text_column is None or text_column not in unlabeled.columns:
        raise InputError("the unlabeled rows have no text column.")
    texts = unlabeled[text_column].fillna("").astype(str)
    empty = np.flatnonzero(texts.str.strip().eq("").to_numpy())
    if empty.size:
        raise InputError(
            f"{empty.size} unlabeled rows have an empty text in {text_column!r}; fill or "
            "remove them (or --unlabeled drop)."
        )
    return probe.featurize(texts.tolist())
