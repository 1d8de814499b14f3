"""Self-contained HTML reports of aggregation runs (class and numeric labels).

Charts are inline SVG (:mod:`truelabel.report._svg`): no matplotlib import and no
rasterising, so the report costs milliseconds even for 200k items.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._numeric_result import NumericAggregateResult
    from ._result import AggregateResult

from ..report._svg import svg_heatmap, svg_histogram, svg_scatter

__all__ = ["render_numeric_report", "render_report"]

MAX_CONFUSIONS = 6


def _plots(res: AggregateResult) -> list[str]:
    out: list[str] = []
    src = res.sources[~res.sources["is_gold"].astype(bool) & (res.sources["n_votes"] > 0)]
    if len(src):
        out.append(
            svg_scatter(
                src["n_votes"].to_numpy(),
                src["estimated_accuracy"].to_numpy(),
                title="Source quality",
                xlabel="votes cast (log scale)",
                ylabel="estimated accuracy",
                logx=True,
                labels=[str(x) for x in src["source"]],
            )
        )
        out.append(
            svg_histogram(
                res.posterior.max(axis=1),
                title="Confidence of the aggregated label",
                xlabel="confidence",
                value_range=(0.0, 1.0),
            )
        )
    # confusion matrices of the worst sources with enough votes
    worst = src[src["n_votes"] >= max(5, res.votes.n_classes)].head(MAX_CONFUSIONS)
    index = {str(n): i for i, n in enumerate(res.votes.source_names)}
    classes = [str(c) for c in res.classes]
    for name, acc in zip(worst["source"], worst["estimated_accuracy"], strict=True):
        conf = np.asarray(res.confusion[index[str(name)]])
        out.append(svg_heatmap(conf, classes, title=f"{name} (acc {acc:.2f})"))
    return out


def _table(df: Any, max_rows: int = 50) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for _, r in df.head(max_rows).iterrows():
        cells = []
        for v in r.tolist():
            if isinstance(v, float | np.floating):
                cells.append("" if not np.isfinite(v) else f"{v:.3f}")
            else:
                cells.append(html.escape(str(v)))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_report(res: AggregateResult) -> str:
    """The report page as one HTML string (all text escaped, charts inline)."""
    s = res.summary
    facts: list[tuple[str, Any]] = [
        ("method", f"{s['method']} — {s['method_reason']}"),
        ("items", s["n_items"]),
        ("sources", s["n_sources"]),
        ("votes", s["n_votes"]),
        ("classes", ", ".join(s["classes"][:30])),
        ("gold items", s["n_gold_items"]),
        ("items without votes", s["n_items_without_votes"]),
        ("Krippendorff's alpha", f"{s['krippendorff_alpha']:.3f}"),
        ("mean confidence", f"{s['mean_confidence']:.3f}"),
        ("converged", f"{s['converged']} ({s['n_iter']} iterations)"),
    ]
    return _page("Aggregation report", facts, list(s.get("notes", [])), res.sources, _plots(res))


def _page(
    title: str, facts: list[tuple[str, Any]], notes: list[str], sources: Any, plots: list[str]
) -> str:
    fact_rows = "".join(
        f"<tr><th>{html.escape(str(a))}</th><td>{html.escape(str(b))}</td></tr>" for a, b in facts
    )
    note_items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    figures = "".join(f"<figure>{p}</figure>" for p in plots)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>truelabel {html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse;font-size:0.85em}}td,th{{border:1px solid #ccc;padding:2px 6px}}
figure{{display:inline-block;margin:0.5em}}</style></head><body>
<h1>{html.escape(title)}</h1>
<table>{fact_rows}</table>
{"<h2>Notes</h2><ul>" + note_items + "</ul>" if note_items else ""}
<h2>Sources (worst first)</h2>
{_table(sources)}
<h2>Plots</h2>
{figures}
</body></html>
"""


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
        ("Krippendorff's alpha (interval)", f"{s['krippendorff_alpha_interval']:.3f}"),
        (f"mean {s['interval_level']:.0%} interval width", f"{s['mean_interval_width']:.4g}"),
        ("converged", f"{s['converged']} ({s['n_iter']} iterations)"),
    ]
    src = res.sources[~res.sources["is_gold"].astype(bool) & (res.sources["n_votes"] > 0)]
    plots = [
        svg_histogram(res.estimates, title="Aggregated values", xlabel="estimate"),
        svg_histogram(
            res.interval[:, 1] - res.interval[:, 0],
            title=f"Width of the {s['interval_level']:.0%} intervals",
            xlabel="upper - lower",
        ),
    ]
    if len(src):
        plots.append(
            svg_scatter(
                src["bias"].to_numpy(),
                src["noise_sd"].to_numpy(),
                title="Sources: bias and noise",
                xlabel="bias (mean deviation)",
                ylabel="noise sd",
                labels=[str(x) for x in src["source"]],
            )
        )
    return _page("Numeric aggregation report", facts, list(s.get("notes", [])), res.sources, plots)
