"""The ``report.html`` of a model directory (``truelabel train``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..report import PALETTE, bar_chart, reliability_chart_from_bins, render_report

if TYPE_CHECKING:
    from ._artifact import TrainedModel

__all__ = ["render_train_report"]


def _rel(d: dict[str, Any] | None, title: str) -> str | None:
    return reliability_chart_from_bins(d, title=title, against="share matching the given label")


def render_train_report(tm: TrainedModel) -> str:
    """The trained model's page: held-out accuracy, calibration, prediction sets, settings."""
    meta = tm.metadata
    m = meta.get("metrics", {})
    charts: list[dict[str, str]] = []
    for key, title, caption in (
        (
            "holdout_reliability_before",
            "Held-out reliability before calibration",
            "The network's raw probabilities on rows it did not train on.",
        ),
        (
            "holdout_reliability_after",
            "Held-out reliability after calibration",
            f"After temperature scaling (T = {tm.temperature:.3f}). Measured against the given "
            "labels, which may be partly wrong.",
        ),
    ):
        svg = _rel(m.get(key), title)
        if svg is not None:
            charts.append({"svg": svg, "caption": caption})
    pairs = m.get("holdout_top_confusions") or []
    if pairs:
        charts.append(
            {
                "svg": bar_chart(
                    np.array([p["count"] for p in pairs], dtype=float),
                    [f"{p['given']} → {p['predicted']}" for p in pairs],
                    title="Most frequent confusions on the held-out rows",
                    xlabel="held-out items",
                    sort=False,
                    colour=PALETTE["red"],
                    value_labels=[str(p["count"]) for p in pairs],
                ),
                "caption": "Given label → predicted label; a frequent pair is two classes the "
                "model cannot tell apart, or a labelling convention that varies.",
            }
        )
    acc = m.get("holdout_accuracy_vs_given_labels")
    cards = [
        {"value": f"{len(tm.classes):,}", "label": "classes"},
        {
            "value": f"{m.get('n_train', 0):,} / {m.get('n_holdout', 0):,}",
            "label": "train / held-out rows",
        },
        {
            "value": f"{100 * acc:.1f}%" if isinstance(acc, float) else "–",
            "label": "held-out accuracy",
            "tone": "neutral",
            "note": "against the given labels (noisy labels make it look lower)",
        },
        {
            "value": f"{m.get('holdout_ece_before', float('nan')):.3f} → "
            f"{m.get('holdout_ece_after', float('nan')):.3f}",
            "label": "held-out ECE before → after",
        },
        {
            "value": f"{m.get('holdout_mean_set_size', float('nan')):.2f}",
            "label": "mean prediction-set size",
            "note": f"coverage {m.get('holdout_set_coverage', float('nan')):.3f} at alpha "
            f"{tm.conformal.get('alphas', [None])[0] if tm.conformal.get('alphas') else '–'}",
        },
    ]
    data = meta.get("training_data", {})
    facts: list[tuple[str, Any]] = [
        ("training data", data.get("source")),
        ("rows", data.get("n_items")),
        ("labels", data.get("label_source")),
        ("soft targets", data.get("soft_targets")),
        ("featurizer", tm.featurizer.get("name")),
        ("model", meta.get("model")),
        ("loss", meta.get("loss")),
        ("scheme", meta.get("scheme")),
        ("epochs run (best)", f"{m.get('epochs_run')} ({m.get('best_epoch')})"),
        ("temperature", tm.temperature),
        ("conformal", f"{tm.conformal.get('mode', '')} at alpha {tm.conformal.get('alphas')}"),
        ("seed", meta.get("random_state")),
        ("created", meta.get("created")),
    ]
    hyper = [
        {"parameter": k, "value": str(v)}
        for k, v in sorted(meta.get("hyperparameters", {}).items())
    ]
    classes = [{"class": c} for c in tm.classes]
    return render_report(
        "truelabel.learn",
        "train_report.html.j2",
        kind="train",
        cards=cards,
        charts=charts,
        facts=facts,
        hyper=hyper,
        classes=classes,
        versions=meta.get("versions", {}),
    )
