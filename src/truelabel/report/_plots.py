"""Matplotlib figures rendered to base64 PNG for self-contained HTML reports."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np

__all__ = ["bar_chart", "fig_to_data_uri", "heatmap", "histogram"]


def _plt():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def fig_to_data_uri(fig) -> str:  # type: ignore[no-untyped-def]
    """Encode a matplotlib figure as a ``data:image/png;base64,…`` URI and close it."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def heatmap(
    matrix: np.ndarray, labels: Sequence[str], *, title: str, xlabel: str, ylabel: str
) -> str:
    """A (K, K) heatmap with tick labels, as a data URI."""
    plt = _plt()
    k = len(labels)
    size = min(12.0, 2.5 + 0.32 * k)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    im = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=max(float(np.max(matrix)), 1e-9))
    ax.set_xticks(range(k), labels, rotation=90, fontsize=max(4, 9 - k // 12))
    ax.set_yticks(range(k), labels, fontsize=max(4, 9 - k // 12))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if k <= 12:
        for i in range(k):
            for j in range(k):
                ax.text(
                    j,
                    i,
                    f"{matrix[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if matrix[i, j] < 0.5 * np.max(matrix) else "black",
                )
    fig.colorbar(im, ax=ax, fraction=0.046)
    return fig_to_data_uri(fig)


def bar_chart(
    values: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    xlabel: str,
    errors: np.ndarray | None = None,
) -> str:
    """A horizontal bar chart (largest first), as a data URI."""
    plt = _plt()
    order = np.argsort(-values, kind="stable")
    k = len(labels)
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.22 * k + 1)))
    ax.barh(
        range(k),
        values[order],
        xerr=None if errors is None else errors[order],
        color="#d9534f",
        alpha=0.85,
    )
    ax.set_yticks(range(k), [labels[i] for i in order], fontsize=max(4, 9 - k // 15))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return fig_to_data_uri(fig)


def histogram(
    values: np.ndarray,
    *,
    title: str,
    xlabel: str,
    bins: int = 40,
    split: np.ndarray | None = None,
    split_names: tuple[str, str] = ("", ""),
) -> str:
    """A histogram, optionally split into two groups by a boolean mask, as a data URI."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    if split is None:
        ax.hist(values, bins=bins, color="#337ab7")
    else:
        ax.hist(
            values[~split],
            bins=bins,
            range=(0, 1),
            alpha=0.7,
            label=split_names[0],
            color="#337ab7",
        )
        ax.hist(
            values[split], bins=bins, range=(0, 1), alpha=0.8, label=split_names[1], color="#d9534f"
        )
        ax.legend()
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return fig_to_data_uri(fig)
