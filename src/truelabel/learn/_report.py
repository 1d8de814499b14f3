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
    """The trained model's page: out-of-sample accuracy, calibration, the estimated label
    noise, prediction sets, settings."""
    meta = tm.metadata
    m = meta.get("metrics", {})
    # calibration rows: cross-fitted (each scored by models that never trained on it) or held out
    oos = "cross-fitted" if m.get("calibration_data") == "crossfit" else "held-out"
    charts: list[dict[str, str]] = []
    for key, title, caption in (
        (
            "reliability_before",
            f"Reliability before calibration ({oos})",
            "The network's raw probabilities on rows it did not train on.",
        ),
        (
            "reliability_after",
            f"Reliability after calibration ({oos})",
            f"After calibration (T = {tm.temperature:.3f}). Measured against the given "
            "labels, which may be partly wrong.",
        ),
    ):
        svg = _rel(m.get(key), title)
        if svg is not None:
            charts.append({"svg": svg, "caption": caption})
    pairs = m.get("top_confusions") or []
    if pairs:
        charts.append(
            {
                "svg": bar_chart(
                    np.array([p["count"] for p in pairs], dtype=float),
                    [f"{p['given']} → {p['predicted']}" for p in pairs],
                    title=f"Most frequent confusions ({oos} rows)",
                    xlabel="items",
                    sort=False,
                    colour=PALETTE["red"],
                    value_labels=[str(p["count"]) for p in pairs],
                ),
                "caption": "Given label → predicted label; a frequent pair is two classes the "
                "model cannot tell apart, or a labelling convention that varies.",
            }
        )
    acc = m.get("accuracy_vs_given_labels")
    noise = meta.get("label_noise") or {}
    cards = [
        {"value": f"{len(tm.classes):,}", "label": "classes"},
        {
            "value": f"{m.get('n_train', 0):,} / {m.get('n_calibration', 0):,}",
            "label": f"train / calibration rows ({oos})",
        },
        {
            "value": f"{100 * acc:.1f}%" if isinstance(acc, float) else "–",
            "label": f"{oos} accuracy",
            "tone": "neutral",
            "note": "against the given labels (noisy labels make it look lower)",
        },
    ]
    if "noise_rate" in noise:
        cards.append(
            {
                "value": f"{100 * float(noise['noise_rate']):.1f}%",
                "label": "estimated wrong labels",
                "tone": "bad",
                "note": f"confident learning; {oos} accuracy beside it: "
                + (f"{100 * acc:.1f}%" if isinstance(acc, float) else "–")
                + ("; used for calibration" if noise.get("used_for_calibration") else ""),
            }
        )
    cards += [
        {
            "value": f"{m.get('ece_vs_given_labels_before', float('nan')):.3f} → "
            f"{m.get('ece_vs_given_labels_after', float('nan')):.3f}",
            "label": f"{oos} ECE before → after",
        },
        {
            "value": f"{m.get('mean_set_size', float('nan')):.2f}",
            "label": "mean prediction-set size",
            "note": f"coverage {m.get('set_coverage_of_given_labels', float('nan')):.3f} at "
            f"alpha {tm.conformal.get('alphas', [None])[0] if tm.conformal.get('alphas') else '–'}",
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
        ("label noise", noise.get("method", "–")),
        ("label noise rate used for calibration", noise.get("noise_rate_used", "–")),
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


def render_table_task_train_report(tm: Any) -> str:
    """The page of a multi-label or regression model: out-of-sample quality, conformal
    coverage on the training rows (cross-fitted, vs the given labels), per-tag table."""
    meta = tm.metadata
    m = meta.get("metrics", {})
    alpha = tm.conformal.get("alphas", [None])[0]
    cards: list[dict[str, Any]] = [
        {"value": f"{m.get('n_train', 0):,}", "label": "training rows"},
    ]
    rows: list[dict[str, Any]] = []
    if tm.task == "multilabel":
        cards += [
            {"value": f"{len(tm.classes)}", "label": "tags"},
            {
                "value": f"{m.get('oof_micro_f1', float('nan')):.3f} / "
                f"{m.get('oof_macro_f1', float('nan')):.3f}",
                "label": "cross-fitted micro / macro F1",
                "note": "against the given tags, per-tag thresholds",
            },
            {
                "value": f"{m.get('set_coverage_of_given_tags', float('nan')):.3f}",
                "label": f"share of items whose set holds all their tags (alpha {alpha})",
                "note": f"mean set size {m.get('mean_set_size', float('nan')):.2f}",
            },
        ]
        rows = list(m.get("per_tag", []))
        columns = [
            ("tag", "tag", "label"),
            ("n_given", "items", "num"),
            ("threshold", "threshold", "prob"),
            ("oof_f1", "cross-fitted F1", "prob"),
            ("set_recall", "share in conformal sets", "pct"),
        ]
    else:
        cards += [
            {
                "value": f"{m.get('oof_mae', float('nan')):.4g}",
                "label": "cross-fitted MAE",
                "note": f"ridge: {m.get('ridge_oof_mae', float('nan')):.4g}; R² "
                f"{m.get('oof_r2', float('nan')):.3f}",
            },
            {
                "value": f"{m.get('interval_coverage_of_given_labels', float('nan')):.3f}",
                "label": f"interval coverage (alpha {alpha})",
                "note": f"mean width {m.get('mean_interval_width', float('nan')):.4g}",
            },
        ]
        columns = []
    facts: list[tuple[str, Any]] = [
        ("task", tm.task),
        ("training data", meta.get("training_data", {}).get("source")),
        ("featurizer", tm.featurizer.get("name")),
        ("model", meta.get("model")),
        ("loss", meta.get("loss")),
        (
            "label filter",
            f"{meta.get('label_filter')} ({m.get('n_cells_filtered', m.get('n_items_filtered', 0))} left out)",
        ),
        (
            "conformal",
            f"{tm.conformal.get('mode')}, score {tm.conformal.get('score')}, alphas {tm.conformal.get('alphas')}",
        ),
        ("seed", meta.get("random_state")),
        ("created", meta.get("created")),
    ]
    hyper = [
        {"parameter": k, "value": str(v)}
        for k, v in sorted(meta.get("hyperparameters", {}).items())
    ]
    return render_report(
        "truelabel.learn",
        "train_table_task.html.j2",
        kind="train",
        task=tm.task,
        cards=cards,
        facts=facts,
        hyper=hyper,
        rows=rows,
        columns=columns,
        versions=meta.get("versions", {}),
    )
