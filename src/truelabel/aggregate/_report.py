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
    from ._spans import SpanAggregateResult

__all__ = [
    "render_aggregate_page",
    "render_numeric_report",
    "render_report_page",
    "render_span_report",
    "source_charts",
]

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


def source_charts(
    sources: pd.DataFrame,
    *,
    accuracy_column: str,
    confidence: np.ndarray,
    confusion: np.ndarray | None,
    source_names: list[str],
    classes: list[str],
    history: np.ndarray | None = None,
    n_iter: Any = None,
    converged: Any = None,
) -> list[dict[str, str]]:
    """The charts of a class-label aggregation, whatever engine ran it.

    Parameters
    ----------
    sources : DataFrame
        One row per source with ``source``, ``n_votes``, ``is_gold`` and
        ``accuracy_column``, worst first.
    confidence : ndarray of shape (n_items,)
        The posterior probability of each item's label.
    confusion : ndarray of shape (n_sources, K, K'), optional
        ``P(answer | true)`` per source, in ``source_names`` order.
    history : ndarray, optional
        Log-likelihood per EM iteration.
    """
    out: list[dict[str, str]] = []
    src = sources[~sources["is_gold"].astype(bool) & (sources["n_votes"] > 0)]
    if len(src):
        out.append(
            {
                "svg": scatter(
                    src["n_votes"].to_numpy(),
                    src[accuracy_column].to_numpy(),
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
    out.append(
        {
            "svg": histogram(
                confidence,
                title="Confidence of the aggregated label",
                xlabel="confidence (posterior probability of the chosen label)",
                value_range=(0.0, 1.0),
            ),
            "caption": "How sure the label model is of each item's label. Without gold labels "
            "this cannot be checked against the truth: a reliability diagram needs items whose "
            "true label is known and was not given to the model.",
        }
    )
    if history is not None and len(history) > 1:
        out.append(
            {
                "svg": line_chart(
                    np.arange(1, len(history) + 1),
                    {"log-likelihood": np.asarray(history, dtype=np.float64)},
                    title="EM convergence",
                    xlabel="iteration",
                    ylabel="log-likelihood of the votes",
                ),
                "caption": f"{n_iter} iterations; converged: {converged}.",
            }
        )
    if confusion is None or not confusion.size:
        return out
    k = len(classes)
    worst = src[src["n_votes"] >= max(5, k)].sort_values(accuracy_column).head(MAX_CONFUSIONS)
    index = {str(n): i for i, n in enumerate(source_names)}
    for name, acc in zip(worst["source"], worst[accuracy_column], strict=True):
        cm = np.asarray(confusion[index[str(name)]])[:k, :k]
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


def _head_cards(
    s: dict[str, Any], *, votes_label: str = "votes", method_note: str | None = None
) -> list[dict[str, Any]]:
    """The first four cards of every aggregation report: items, sources, votes, label model."""
    method: dict[str, Any] = {"value": str(s["method"]), "label": "label model"}
    if method_note is not None:
        method["note"] = method_note
    return [
        {"value": f"{s['n_items']:,}", "label": "items"},
        {"value": f"{s['n_sources']:,}", "label": "sources"},
        {"value": f"{s['n_votes']:,}", "label": votes_label},
        method,
    ]


def render_aggregate_page(
    *,
    title: str,
    summary: dict[str, Any],
    facts: list[tuple[str, Any]],
    cards: list[dict[str, Any]],
    charts: list[dict[str, str]],
    sources: pd.DataFrame,
    labels: pd.DataFrame,
    score_rows: list[dict[str, Any]] | None = None,
    criterion: str = "",
) -> str:
    """The aggregation page (class or numeric labels, any engine).

    Parameters
    ----------
    labels : DataFrame
        The items to list first (least certain first).
    """
    s = summary
    return render_report(
        "truelabel.aggregate",
        "aggregate_report.html.j2",
        kind="aggregate"
        + (f" --engine {s['settings']['engine']}" if s.get("settings", {}).get("engine") else ""),
        title=title,
        s=s,
        facts=facts,
        cards=cards,
        notes=list(s.get("notes", [])),
        warnings=list(s.get("warnings", [])),
        score_rows=score_rows or [],
        criterion=criterion,
        charts=charts,
        source_cols=_columns(sources),
        source_rows=_records(sources, MAX_SOURCE_ROWS),
        n_sources=len(sources),
        label_cols=_columns(labels),
        label_rows=_records(labels, LEAST_CONFIDENT),
        n_labels=len(labels),
    )


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
        ("posterior", s.get("posterior", "raw")),
        ("converged", f"{s['converged']} ({s['n_iter']} iterations)"),
    ]
    scores = s.get("method_scores") or {}
    score_rows = [
        {"method": m, "score": v, "chosen": "✓" if m == s["method"] else ""}
        for m, v in sorted(scores.items(), key=lambda kv: -float(kv[1]))
    ]
    least = res.labels.sort_values("confidence", kind="stable")
    label_cols = [c for c in ("item_id", "label", "confidence", "n_votes", "is_gold") if c in least]
    charts = source_charts(
        res.sources,
        accuracy_column="estimated_accuracy",
        confidence=res.posterior.max(axis=1) if res.posterior.size else np.zeros(0),
        confusion=np.asarray(res.confusion) if res.confusion.size else None,
        source_names=[str(n) for n in res.votes.source_names],
        classes=[str(c) for c in res.classes],
        history=getattr(res.model, "log_likelihood_history_", None),
        n_iter=s.get("n_iter"),
        converged=s.get("converged"),
    )
    return render_aggregate_page(
        title="Aggregation report",
        summary=s,
        facts=facts,
        cards=[
            *_head_cards(s, method_note=s.get("method_criterion", "")),
            {
                "value": f"{s['krippendorff_alpha']:.3f}",
                "label": "Krippendorff's alpha",
                "note": "agreement between sources beyond chance (1 = perfect)",
            },
            {"value": f"{s['mean_confidence']:.3f}", "label": "mean confidence", "tone": "neutral"},
        ],
        charts=charts,
        sources=res.sources,
        labels=least[label_cols],
        score_rows=score_rows,
        criterion=s.get("method_criterion", ""),
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
    return render_aggregate_page(
        title="Numeric aggregation report",
        summary=s,
        facts=facts,
        cards=[
            *_head_cards(s),
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
        charts=charts,
        sources=res.sources,
        labels=least[label_cols],
    )


def render_span_report(res: SpanAggregateResult) -> str:
    """The report page of a span aggregation (all text escaped, charts inline)."""
    s = res.summary
    facts: list[tuple[str, Any]] = [
        ("labels", "spans (one IOB2 tag per token)"),
        ("method", f"{s['method']} — {s['method_reason']}"),
        ("items", f"{s['n_items']:,} ({s['n_items_with_votes']:,} with votes)"),
        ("tokens", s["n_tokens"]),
        ("sources", s["n_sources"]),
        ("token votes", s["n_votes"]),
        ("entity types", ", ".join(str(t) for t in s["entity_types"])),
        ("consensus spans", s["n_spans"]),
        ("mean token confidence", s["mean_confidence"]),
        ("converged", f"{s['converged']} ({s['n_iter']} iterations)"),
    ]
    charts = [
        {
            "svg": histogram(
                res.labels["confidence"].to_numpy(dtype=np.float64),
                title="Confidence of the consensus spans",
                xlabel="mean tag posterior over the span's tokens",
                value_range=(0.0, 1.0),
            ),
            "caption": "One value per consensus span.",
        }
    ]
    src = res.sources[res.sources["n_spans"] > 0]
    if len(src):
        charts.append(
            {
                "svg": scatter(
                    src["n_token_votes"].to_numpy(),
                    src["span_f1"].to_numpy(),
                    title="Sources: span F1 against the consensus",
                    xlabel="token votes",
                    ylabel="span F1",
                    logx=True,
                    labels=[str(x) for x in src["source"]],
                ),
                "caption": "One point per source (hover for its name).",
            }
        )
    least = res.labels.sort_values("confidence", kind="stable")
    return render_aggregate_page(
        title="Span aggregation report",
        summary=s,
        facts=facts,
        cards=[
            *_head_cards(s, votes_label="token votes"),
            {"value": f"{s['n_spans']:,}", "label": "consensus spans"},
            {
                "value": f"{s['mean_confidence']:.3f}",
                "label": "mean token confidence",
                "tone": "neutral",
            },
        ],
        charts=charts,
        sources=res.sources,
        labels=least,
    )
