"""Per-class health table and class imbalance."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import InputError
from .._validation import check_labels
from ._checks import check_labels_and_probs
from ._noise import NoiseEstimate

__all__ = [
    "NEAR_CHANCE_KAPPA",
    "agreement_from_predictions",
    "class_health",
    "class_imbalance",
    "model_agreement",
    "near_chance_warning",
]


def class_health(
    labels: Any, pred_probs: Any, noise: NoiseEstimate, issues_mask: Any
) -> dict[str, np.ndarray]:
    """One row per class (given label): size, estimated error rate, flags, top confusion.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample predicted probabilities.
    noise : NoiseEstimate
        From :func:`estimate_noise_matrices` on the same labels and probabilities.
    issues_mask : array-like of shape (N,), bool
        From :func:`find_label_issues`.

    Returns
    -------
    health : dict of str to ndarray of shape (K,)
        - ``"n_items"`` (int64): items given the class.
        - ``"estimated_error_rate"`` (float64): ``P(true != k | given = k)``, the
          estimated share of the class's items that are mislabelled
          (``noise.noise_rate_per_class``).
        - ``"n_flagged"`` (int64) and ``"flagged_rate"`` (float64): items of the
          class flagged by ``issues_mask``, as a count and a share of ``n_items``.
        - ``"mean_self_confidence"`` (float64): mean ``pred_probs[i, k]`` over its items.
        - ``"top_confusion"`` (int64): the true class ``j != k`` most often hidden
          behind label ``k`` (argmax of ``P(true = j | given = k)``), ``-1`` when the
          estimate shows no confusion.
        - ``"top_confusion_share"`` (float64): ``P(true = top_confusion | given = k)``,
          the share of the class's items estimated to truly be that class (0 when
          ``top_confusion`` is -1).
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    k = probs.shape[1]
    if noise.joint.shape != (k, k):
        raise InputError(
            f"noise was estimated for {noise.joint.shape[0]} classes but pred_probs has {k}; "
            "pass the NoiseEstimate of these same labels and probabilities."
        )
    mask = np.asarray(issues_mask)
    if mask.shape != labs.shape or mask.dtype != bool:
        raise InputError(
            f"issues_mask must be a bool array of shape {labs.shape}; got {mask.dtype} {mask.shape}."
        )
    n_items = np.bincount(labs, minlength=k)
    n_flagged = np.bincount(labs[mask], minlength=k)
    sc = probs[np.arange(labs.shape[0]), labs].astype(np.float64)
    sums = np.bincount(labs, weights=sc, minlength=k)
    denom = np.maximum(n_items, 1)
    inv = noise.inverse_noise_matrix.copy()
    np.fill_diagonal(inv, -1.0)
    top = inv.argmax(axis=1)
    share = inv[np.arange(k), top]
    top = np.where(share > 0, top, -1)
    share = np.where(share > 0, share, 0.0)
    return {
        "n_items": n_items.astype(np.int64),
        "estimated_error_rate": np.asarray(noise.noise_rate_per_class, dtype=np.float64),
        "n_flagged": n_flagged.astype(np.int64),
        "flagged_rate": n_flagged / denom,
        "mean_self_confidence": np.where(n_items > 0, sums / denom, 0.0),
        "top_confusion": top.astype(np.int64),
        "top_confusion_share": share,
    }


def class_imbalance(labels: Any, n_classes: int, *, minority_share: float = 0.5) -> dict[str, Any]:
    """How unequal the class sizes are.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, n_classes)``.
    n_classes : int >= 1
        K (classes with no item count as size 0).
    minority_share : float in (0, 1], default=0.5
        A class is a minority class when it holds fewer than
        ``minority_share * N / K`` items (less than half its equal share by default).

    Returns
    -------
    imbalance : dict
        - ``"counts"``: ndarray (K,), int64, items per class.
        - ``"ratio"``: float, smallest / largest class size (1 = balanced, 0 = a class is empty).
        - ``"minority_classes"``: ndarray (M,), int64, the minority classes, smallest first.
    """
    if not (isinstance(n_classes, int | np.integer) and n_classes >= 1):
        raise InputError(f"n_classes must be an int >= 1; got {n_classes!r}.")
    if not (isinstance(minority_share, int | float) and 0 < minority_share <= 1):
        raise InputError(
            f"minority_share must be a float in the range (0, 1]; got {minority_share!r}."
        )
    labs = check_labels(labels, n_classes=int(n_classes))
    if labs.size == 0:
        raise InputError("labels is empty; class imbalance needs at least one item.")
    counts = np.bincount(labs, minlength=int(n_classes)).astype(np.int64)
    ratio = float(counts.min() / counts.max())
    cut = minority_share * labs.shape[0] / n_classes
    minority = np.flatnonzero(counts < cut)
    minority = minority[np.argsort(counts[minority], kind="stable")]
    return {"counts": counts, "ratio": ratio, "minority_classes": minority.astype(np.int64)}


#: Cohen's kappa between the model's argmax and the given labels below which the
#: audit warns that the model is near chance. Checked on every real labelled set with
#: TF-IDF features (benchmarks/experiments/audit_near_chance.py): shuffled labels give
#: kappa <= 0.035; real sets >= 0.116, except two whose model truly is at chance (RTE
#: entailment 0.057, a 94.5%-majority sentiment set 0.000).
NEAR_CHANCE_KAPPA = 0.1


def model_agreement(labels: Any, pred_probs: Any) -> dict[str, float]:
    """How much better than chance the model's predictions match the given labels.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample predicted probabilities.

    Returns
    -------
    agreement : dict
        - ``"accuracy"``: share of items whose argmax equals the given label;
        - ``"chance"``: the accuracy expected if predictions were independent of the
          labels with the same class shares, ``sum_k P(given = k) P(pred = k)``;
        - ``"majority"``: the share of the most common given label;
        - ``"kappa"``: Cohen's kappa ``(accuracy - chance) / (1 - chance)``; 0 = chance,
          1 = perfect (1.0 when ``chance`` is 1).
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    return agreement_from_predictions(labs, np.asarray(probs).argmax(axis=1), probs.shape[1])


def agreement_from_predictions(labels: Any, predicted: Any, n_classes: int) -> dict[str, float]:
    """:func:`model_agreement` from hard predictions (e.g. argmaxes taken chunk by chunk).

    Parameters
    ----------
    labels, predicted : array-like of shape (N,), int
        Given labels and the model's predicted classes, codes in ``[0, n_classes)``.
    n_classes : int
    """
    labs = check_labels(labels, n_classes=n_classes)
    pred = check_labels(predicted, n_classes=n_classes, n_rows=labs.shape[0], name="predicted")
    k = n_classes
    n = max(labs.shape[0], 1)
    acc = float((pred == labs).mean()) if labs.size else 0.0
    p_given = np.bincount(labs, minlength=k) / n
    p_pred = np.bincount(pred, minlength=k) / n
    chance = float(p_given @ p_pred)
    kappa = 1.0 if chance >= 1.0 else (acc - chance) / (1.0 - chance)
    return {
        "accuracy": acc,
        "chance": chance,
        "majority": float(p_given.max()) if labs.size else 0.0,
        "kappa": float(kappa),
    }


def near_chance_warning(agreement: dict[str, float], noise_rate: float) -> str | None:
    """A warning when ``agreement["kappa"]`` is below :data:`NEAR_CHANCE_KAPPA`, else None."""
    if agreement["kappa"] >= NEAR_CHANCE_KAPPA:
        return None
    return (
        f"the cross-fitted model is near chance: it matches the given labels on "
        f"{agreement['accuracy']:.1%} of items where chance alone gives "
        f"{agreement['chance']:.1%} (Cohen's kappa {agreement['kappa']:.2f} < "
        f"{NEAR_CHANCE_KAPPA}). It has not learned the classes, so the estimated noise rate "
        f"({noise_rate:.1%}) and the flags mean little. Use a stronger featurizer or end model "
        "(e.g. --featurizer minilm), more items, or your own --pred-probs."
    )
