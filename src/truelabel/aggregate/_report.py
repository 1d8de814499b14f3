"""The ``report.html`` of aggregation runs (class and numeric labels).

Rendered with the shared report templates and inline SVG charts of
:mod:`truelabel.report`: no matplotlib import and no rasterising, so the report costs
milliseconds even for 200k items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..report import (
    MAX_HEATMAP_CLASSES,
    confusion_chart,
    histogram,
    line_chart,
    render_report,
    scatter,
)

if TYPE_CHECKING:
    from ._numeric_result import NumericAggregateResult
    from ._result import AggregateResult

__all__ = ["render_numeric_report", "render_report_page"]

MAX_CONFUSIONS = 6
MAX_SOURCE_ROWS = 2000
LEAST_CONFIDENT = 200


def _columns(df: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Table columns of a frame: numbers sortable as numbers, text as text."""
    out = []
    for c in df.columns:
        kind = "num" if pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != bool else "text"
        out.append((str(c), str(c).replace("_", " "), kind))
    return out


def _records(df: pd.DataFrame, limit: int) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in df.head(limit).to_dict("records")]


def _class_charts(res: AggregateResult) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    s = res.summary
    src = res.sources[~res.sources["is_gold"].astype(bool) & (res.sources["n_votes"] > 0)]
    if len(src):
        out.append(
            {
                "svg": scatter(
                    src["n_votes"].to_numpy(),
                    src["estimated_accuracy"].to_numpy(),
                    title="Source quality",
                    xlabel="votes cast",
                    ylabel="estimated accuracy",
                    logx=True,
                    labels=[str(x) for x in src["source"]],
                ),
                "caption": "One point per source (hover for its name). Sources with few votes "
                "are shrunk toward an average source.",
            }
        )
    conf = res.posterior.max(axis=1) if res.posterior.size else np.zeros(0)
    out.append(
        {
            "svg": histogram(
                conf,
                title="Confidence of the aggregated label",
                xlabel="confidence (posterior probability of the chosen label)",
                value_range=(0.0, 1.0),
            ),
            "caption": "How sure the label model is of each item's label. Without gold labels "
            "this cannot be checked against the truth: a reliability diagram needs items whose "
            "true label is known and was not given to the model.",
        }
    )
    hist = getattr(res.model, "log_likelihood_history_", None)
    if hist is not None and len(hist) > 1:
        h = np.asarray(hist, dtype=np.float64)
        out.append(
            {
                "svg": line_chart(
                    np.arange(1, len(h) + 1),
                    {"log-likelihood": h},
                    title="EM convergence",
                    xlabel="iteration",
                    ylabel="log-likelihood of the votes",
                ),
                "caption": f"{s.get('n_iter')} iterations; converged: {s.get('converged')}.",
            }
        )
    worst = src[src["n_votes"] >= max(5, res.votes.n_classes)].head(MAX_CONFUSIONS)
    index = {str(n): i for i, n in enumerate(res.votes.source_names)}
    classes = [str(c) for c in res.classes]
    k = len(classes)
    if res.confusion.size:
        for name, acc in zip(worst["source"], worst["estimated_accuracy"], strict=True):
            cm = np.asarray(res.confusion[index[str(name)]])[:k, :k]
            out.append(
                {
                    "svg": confusion_chart(
                        cm,
                        classes,
                        title=f"Source {name} (estimated accuracy {acc:.2f})",
                        row_name="true",
                        col_name="answer",
                        value_name="P(answer | true)",
                    ),
                    "caption": "Rows: the true class; columns: this source's answer."
                    if k <= MAX_HEATMAP_CLASSES
                    else "The source's most frequent mistakes, 'true ← answer'.",
                }
            )
    return out


def render_report_page(res: AggregateResult) -> str:
    """The report page of a class-label aggregation (all text escaped, charts inline)."""
    s = res.summary
    facts: list[tuple[str, Any]] = [
        ("method", f"{s['method']} — {s['method_reason']}"),
        ("items", s["n_items"]),
        ("sources", s["n_sources"]),
        ("votes", s["n_votes"]),
        ("classes", ", ".join(str(c) for c in s["classes"][:30])),
        ("gold items", s["n_gold_items"]),
        ("items without votes", s["n_items_without_votes"]),
        ("Krippendorff's alpha", s["krippendorff_alpha"]),
        ("mean confidence", s["mean_confidence"]),
        ("converged", f"{s['converged']} ({s['n_iter']} iterations)"),
    ]
    scores = s.get("method_scores") or {}
    score_rows = [
        {"method": m, "score": v, "chosen": "✓" if m == s["method"] else ""}
        for m, v in sorted(scores.items(), key=lambda kv: -float(kv[1]))
    ]
    least = res.labels.sort_values("confidence", kind="stable")
    label_cols = [c for c in ("item_id", "label", "confidence", "n_votes", "is_gold") if c in least]
    return render_report(
        "truelabel.aggregate",
        "aggregate_report.html.j2",
        kind="aggregate",
        title="Aggregation report",
        s=s,
        facts=facts,
        cards=[
            {"value": f"{s['n_items']:,}", "label": "items"},
            {"value": f"{s['n_sources']:,}", "label": "sources"},
            {"value": f"{s['n_votes']:,}", "label": "votes"},
            {
                "value": str(s["method"]),
                "label": "label model",
                "note": s.get("method_criterion", ""),
            },
            {
                "value": f"{s['krippendorff_alpha']:.3f}",
                "label": "Krippendorff's alpha",
                "note": "agreement between sources beyond chance (1 = perfect)",
            },
            {"value": f"{s['mean_confidence']:.3f}", "label": "mean confidence", "tone": "neutral"},
        ],
        notes=list(s.get("notes", [])),
        warnings=list(s.get("warnings", [])),
        score_rows=score_rows,
        criterion=s.get("method_criterion", ""),
        charts=_class_charts(res),
        source_cols=_columns(res.sources),
        source_rows=_records(res.sources, MAX_SOURCE_ROWS),
        n_sources=len(res.sources),
        label_cols=_columns(least[label_cols]),
        label_rows=_records(least[label_cols], LEAST_CONFIDENT),
        n_labels=len(least),
    )


def render_numeric_report(res: NumericAggregateResult) -> str:
    """The report page of a numeric aggregation as one HTML string."""
    s = res.summary
    facts: list[tuple[str, Any]] = [
        ("labels", f"numeric — {s['label_type_reason']}"),
        ("method", f"{s['method']} — {s['method_reason']}"),
        ("items", s["n_items"]),
        ("sources", s["n_sources"]),
        ("votes", s["n_votes"]),
        ("gold items", s["n_gold_items"]),
        ("items without votes", s["n_items_without_votes"]),
        ("Krippendorff's alpha (interval)", s["krippendorff_alpha_interval"]),
        (f"mean {s['interval_level']:.0%} interval width", s["mean_interval_width"]),
        ("converged", f"{s['converged']} ({s['n_iter']} iterations)"),
    ]
    src = res.sources[~res.sources["is_gold"].astype(bool) & (res.sources["n_votes"] > 0)]
    charts = [
        {
            "svg": histogram(res.estimates, title="Aggregated values", xlabel="estimate"),
            "caption": "One value per item (items without votes left out).",
        },
        {
            "svg": histogram(
                res.interval[:, 1] - res.interval[:, 0],
                title=f"Width of the {s['interval_level']:.0%} intervals",
                xlabel="upper − lower",
            ),
            "caption": "Narrow: the sources agree, or a precise source voted.",
        },
    ]
    if len(src):
        charts.append(
            {
                "svg": scatter(
                    src["bias"].to_numpy(),
                    src["noise_sd"].to_numpy(),
                    title="Sources: bias and noise",
                    xlabel="bias (mean deviation from the estimate)",
                    ylabel="noise sd",
                    labels=[str(x) for x in src["source"]],
                ),
                "caption": "One point per source; good sources sit low and near zero bias.",
            }
        )
    least = res.labels.assign(width=res.labels["upper"] - res.labels["lower"]).sort_values(
        "width", ascending=False, kind="stable"
    )
    label_cols = [
        c
        for c in ("item_id", "label", "lower", "upper", "width", "n_votes", "is_gold")
        if c in least
    ]
    return render_report(
        "truelabel.aggregate",
        "aggregate_report.html.j2",
        kind="aggregate",
        title="Numeric aggregation report",
        s=s,
        facts=facts,
        cards=[
            {"value": f"{s['n_items']:,}", "label": "items"},
            {"value": f"{s['n_sources']:,}", "label": "sources"},
            {"value": f"{s['n_votes']:,}", "label": "votes"},
            {"value": str(s["method"]), "label": "label model"},
            {
                "value": f"{s['krippendorff_alpha_interval']:.3f}",
                "label": "Krippendorff's alpha (interval)",
            },
            {
                "value": f"{s['mean_interval_width']:.4g}",
                "label": f"mean {s['interval_level']:.0%} interval width",
                "tone": "neutral",
            },
        ],
        notes=list(s.get("notes", [])),
        warnings=list(s.get("warnings", [])),
        score_rows=[],
        criterion="",
        charts=charts,
        source_cols=_columns(res.sources),
        source_rows=_records(res.sources, MAX_SOURCE_ROWS),
        n_sources=len(res.sources),
        label_cols=_columns(least[label_cols]),
        label_rows=_records(least[label_cols], LEAST_CONFIDENT),
        n_labels=len(least),
    )
