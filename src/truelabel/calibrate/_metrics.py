"""Calibration metrics: ECE, MCE, Brier score and reliability-diagram data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InputError
from .._types import FloatArray, IntArray
from .._validation import check_labels, check_pred_probs

__all__ = [
    "ReliabilityDiagram",
    "brier_score",
    "expected_calibration_error",
    "maximum_calibration_error",
    "plot_reliability_diagram",
    "reliability_diagram",
]


@dataclass(frozen=True)
class ReliabilityDiagram:
    """Per-bin confidence and accuracy of the top-label prediction.

    Attributes
    ----------
    bin_edges : ndarray of shape (B + 1,)
        Equal-width edges on [0, 1].
    confidence : ndarray of shape (B,)
        Mean top-label probability in each bin (NaN for an empty bin).
    accuracy : ndarray of shape (B,)
        Fraction of items in the bin whose top label is correct (NaN when empty).
    count : ndarray of shape (B,), int64
        Items per bin.
    """

    bin_edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray

    @property
    def gaps(self) -> np.ndarray:
        """|accuracy - confidence| per bin (NaN for empty bins)."""
        return np.abs(self.accuracy - self.confidence)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists, for JSON reports (NaN becomes None)."""

        def clean(a: np.ndarray) -> list[Any]:
            return [None if not np.isfinite(v) else float(v) for v in a]

        return {
            "bin_edges": [float(v) for v in self.bin_edges],
            "confidence": clean(self.confidence),
            "accuracy": clean(self.accuracy),
            "count": [int(v) for v in self.count],
        }


def _check(probs: Any, labels: Any) -> tuple[np.ndarray, IntArray]:
    p = check_pred_probs(probs, name="probs")
    y = check_labels(labels, n_classes=p.shape[1], n_rows=p.shape[0])
    if p.shape[0] == 0:
        raise InputError("probs is empty; calibration metrics need at least one item.")
    return p, y


def _bin_stats(p: np.ndarray, y: IntArray, n_bins: int) -> ReliabilityDiagram:
    if int(n_bins) < 1:
        raise InputError(f"n_bins must be >= 1; got {n_bins}.")
    conf = p.max(axis=1).astype(np.float64)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # right-closed bins (lo, hi]; a confidence of exactly 0 falls into the first bin
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    s_conf = np.bincount(idx, weights=conf, minlength=n_bins)
    s_acc = np.bincount(idx, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, s_conf / np.maximum(count, 1), np.nan)
        mean_acc = np.where(count > 0, s_acc / np.maximum(count, 1), np.nan)
    return ReliabilityDiagram(edges, mean_conf, mean_acc, count.astype(np.int64))


def reliability_diagram(
    probs: FloatArray, labels: IntArray, *, n_bins: int = 15
) -> ReliabilityDiagram:
    """Bin the top-label confidence and compare it with the accuracy in each bin.

    Parameters
    ----------
    probs : ndarray of shape (N, K)
        Predicted probabilities; rows sum to 1.
    labels : ndarray of shape (N,), int
        True class codes 0..K-1.
    n_bins : int, default 15
        Equal-width bins on [0, 1].

    Returns
    -------
    ReliabilityDiagram
    """
    p, y = _check(probs, labels)
    return _bin_stats(p, y, n_bins)


def expected_calibration_error(probs: FloatArray, labels: IntArray, *, n_bins: int = 15) -> float:
    """Top-label expected calibration error (Guo et al. 2017).

    ``ECE = sum_b (n_b / N) * |acc_b - conf_b|`` over ``n_bins`` equal-width bins.

    Parameters
    ----------
    probs : ndarray of shape (N, K)
    labels : ndarray of shape (N,), int
    n_bins : int, default 15

    Returns
    -------
    float in [0, 1]; 0 is perfectly calibrated, higher is worse.
    """
    d = reliability_diagram(probs, labels, n_bins=n_bins)
    w = d.count / d.count.sum()
    return float(np.nansum(w * d.gaps))


def maximum_calibration_error(probs: FloatArray, labels: IntArray, *, n_bins: int = 15) -> float:
    """Largest |accuracy - confidence| over the non-empty bins.

    Parameters
    ----------
    probs : ndarray of shape (N, K)
    labels : ndarray of shape (N,), int
    n_bins : int, default 15

    Returns
    -------
    float in [0, 1]; higher is worse.
    """
    d = reliability_diagram(probs, labels, n_bins=n_bins)
    return float(np.nanmax(d.gaps))


def brier_score(probs: FloatArray, labels: IntArray) -> float:
    """Multi-class Brier score: mean over items of ``sum_k (p_k - 1[y = k])^2``.

    Parameters
    ----------
    probs : ndarray of shape (N, K)
    labels : ndarray of shape (N,), int

    Returns
    -------
    float in [0, 2]; 0 is perfect, lower is better.
    """
    p, y = _check(probs, labels)
    p64 = p.astype(np.float64)
    sq = (p64**2).sum(axis=1) - 2.0 * p64[np.arange(len(y)), y] + 1.0
    return float(sq.mean())


def plot_reliability_diagram(
    probs: FloatArray | ReliabilityDiagram,
    labels: IntArray | None = None,
    *,
    n_bins: int = 15,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Draw a reliability diagram (bars of accuracy per confidence bin, diagonal = perfect).

    Parameters
    ----------
    probs : ndarray of shape (N, K), or a ReliabilityDiagram
    labels : ndarray of shape (N,), int; needed unless ``probs`` is a diagram
    n_bins : int, default 15
    title : str, optional
        Default shows the ECE.
    ax : matplotlib Axes, optional
        Draw into it; otherwise a new 4x4-inch figure is made (Agg-safe).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("reliability.png", dpi=120)`` for a report.
    """
    if isinstance(probs, ReliabilityDiagram):
        d = probs
    else:
        if labels is None:
            raise InputError("plot_reliability_diagram needs labels when given probabilities.")
        d = reliability_diagram(probs, labels, n_bins=n_bins)
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(4, 4))
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    width = np.diff(d.bin_edges)
    centers = d.bin_edges[:-1] + width / 2
    acc = np.nan_to_num(d.accuracy)
    ax.bar(centers, acc, width=width * 0.95, color="#4c72b0", edgecolor="white", label="accuracy")
    ax.plot([0, 1], [0, 1], "--", color="#888888", label="perfect calibration")
    conf = np.nan_to_num(d.confidence)
    ax.scatter(
        centers[d.count > 0],
        conf[d.count > 0],
        color="#dd8452",
        s=12,
        zorder=3,
        label="mean confidence",
    )
    w = d.count / max(int(d.count.sum()), 1)
    ece = float(np.nansum(w * d.gaps))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(title if title is not None else f"ECE = {ece:.3f}")
    ax.legend(loc="upper left", fontsize=8)
    return fig
