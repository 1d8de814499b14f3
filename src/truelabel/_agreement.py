"""Agreement statistics, written once: Cohen's kappa (two raters) and Krippendorff's alpha.

Used by the review server (inter-reviewer agreement), ``aggregate`` (agreement of the
sources), ``audit`` (model vs given labels, the near-chance check) and zero-shot labelling
(drift from the name-only labels).

Degenerate input, decided once for both statistics: no pairable data (no items, or no unit
with two ratings) gives NaN; data without variation (every rating the same class, so the
chance agreement is 1 and the chance disagreement 0) gives 1.0, since the ratings then
agree perfectly: observed disagreement is 0 whenever expected disagreement is.
scikit-learn's ``cohen_kappa_score`` and the ``krippendorff`` package give the same values
elsewhere (tests/test_agreement.py) but NaN with a warning on the no-variation case.
"""

from __future__ import annotations

import numpy as np

from ._types import IntArray

__all__ = ["cohen_kappa", "krippendorff_alpha_nominal"]


def cohen_kappa(a: IntArray, b: IntArray, n_classes: int) -> float:
    """Cohen's kappa of two raters on the same items.

    Parameters
    ----------
    a, b : ndarray of shape (n_items,), int
        Class codes in ``[0, n_classes)`` given by rater A and rater B to the same items.
    n_classes : int

    Returns
    -------
    float
        ``(p_o - p_e) / (1 - p_e)``; 1 = perfect, 0 = chance; NaN without items,
        1.0 when both raters used one and the same class throughout.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    n = a.shape[0]
    if n == 0:
        return float("nan")
    po = float(np.mean(a == b))
    pa = np.bincount(a, minlength=n_classes) / n
    pb = np.bincount(b, minlength=n_classes) / n
    pe = float(pa @ pb)
    if pe >= 1.0:  # both raters used one and the same class: then p_o = 1 too
        return 1.0
    return (po - pe) / (1.0 - pe)


def krippendorff_alpha_nominal(unit: IntArray, value: IntArray, n_classes: int) -> float:
    """Krippendorff's alpha for nominal data, any number of raters per unit.

    Parameters
    ----------
    unit : ndarray of shape (n_ratings,), int
        Which unit (item) each rating is about; units with one rating are ignored.
    value : ndarray of shape (n_ratings,), int
        Class code of each rating.
    n_classes : int

    Returns
    -------
    float
        ``1 - D_o / D_e``; 1 = perfect, 0 = chance, negative = systematic
        disagreement; NaN when no unit has two ratings, 1.0 when every pairable
        rating is the same class.
    """
    unit = np.asarray(unit, dtype=np.int64)
    value = np.asarray(value, dtype=np.int64)
    if unit.shape[0] == 0:
        return float("nan")
    _, u = np.unique(unit, return_inverse=True)
    counts = np.zeros((u.max() + 1, n_classes))
    np.add.at(counts, (u, value), 1.0)
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    if counts.shape[0] == 0:
        return float("nan")
    scaled = counts / (m - 1)[:, None]
    coincidence = scaled.T @ counts - np.diag(scaled.sum(axis=0))  # (K, K)
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    observed = (coincidence.sum() - np.trace(coincidence)) / n
    expected = (n * n - float(n_c @ n_c)) / (n * (n - 1))
    if expected <= 0:  # one class throughout: then observed = 0 too
        return 1.0
    return float(1.0 - observed / expected)
