"""A self-contained HTML report of an aggregation run (plots as base64 PNG)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._result import AggregateResult

from ..report import fig_to_data_uri

__all__ = ["render_report"]

MAX_CONFUSIONS = 6


def _img(fig: Any, alt: str) -> str:
    """An ``<img>`` with the figure embedded (shared encoder in ``truelabel.report``)."""
    return f'<img alt="{html.escape(alt)}" src="{fig_to_data_uri(fig)}">'


def _plots(res: AggregateResult) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: list[str] = []
    src = res.sources[~res.sources["is_gold"].astype(bool) & (res.sources["n_votes"] > 0)]
    if len(src):
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.scatter(src["n_votes"], src["estimated_accuracy"], s=18, alpha=0.7)
        ax.set_xscale("log")
        ax.set_xlabel("votes cast (log scale)")
        ax.set_ylabel("estimated accuracy")
        ax.set_title("Source quality")
        out.append(_img(fig, "estimated accuracy against votes per source"))
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(res.posterior.max(axis=1), bins=20, range=(0, 1))
        ax.set_xlabel("confidence of the aggregated label")
        ax.set_ylabel("items")
        out.append(_img(fig, "histogram of label confidence"))
    # confusion matrices of the worst sources with enough votes
    worst = src[src["n_votes"] >= max(5, res.votes.n_classes)].head(MAX_CONFUSIONS)
    names = list(res.votes.source_names)
    classes = [str(c) for c in res.classes]
    k = len(classes)
    for _, row in worst.iterrows():
        s = names.index(row["source"])
        conf = np.asarray(res.confusion[s])
        fig, ax = plt.subplots(figsize=(1.2 + 0.45 * k, 1.0 + 0.45 * k))
        ax.imshow(conf, vmin=0, vmax=1, cmap="Blues")
        ax.set_xticks(range(k), classes, rotation=90, fontsize=7)
        ax.set_yticks(range(k), classes, fontsize=7)
        ax.set_xlabel("source says")
        ax.set_ylabel("true class")
        ax.set_title(f"{row['source']} (acc {row['estimated_accuracy']:.2f})", fontsize=8)
        if k <= 8:
            for i in range(k):
                for j in range(k):
                    ax.text(j, i, f"{conf[i, j]:.2f}", ha="center", va="center", fontsize=6)
        out.append(_img(fig, f"confusion matrix of source {row['source']}"))
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
    """The report page as one HTML string (all text escaped, images inline)."""
    s = res.summary
    facts = [
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
    fact_rows = "".join(
        f"<tr><th>{html.escape(str(a))}</th><td>{html.escape(str(b))}</td></tr>" for a, b in facts
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in s.get("notes", []))
    plots = "".join(f"<figure>{p}</figure>" for p in _plots(res))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>truelabel aggregate report</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse;font-size:0.85em}}td,th{{border:1px solid #ccc;padding:2px 6px}}
figure{{display:inline-block;margin:0.5em}}</style></head><body>
<h1>Aggregation report</h1>
<table>{fact_rows}</table>
{"<h2>Notes</h2><ul>" + notes + "</ul>" if notes else ""}
<h2>Source quality (worst first)</h2>
{_table(res.sources)}
<h2>Plots</h2>
{plots}
</body></html>
"""
