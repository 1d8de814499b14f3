"""The audit's ``report.html``: one self-contained page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from ._plots import bar_chart, heatmap, histogram

if TYPE_CHECKING:
    from ..audit import AuditResult

__all__ = ["render_audit_report", "template_env"]

MAX_HEATMAP_CLASSES = 30
TOP_ISSUES = 100
MAX_EMPTY_LISTED = 200


def template_env() -> Environment:
    """The Jinja2 environment for report templates (autoescaping on)."""
    return Environment(
        loader=PackageLoader("truelabel.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
    )


def render_audit_report(result: AuditResult) -> str:
    """Render the audit report: noise-matrix heatmap, per-class error rates, the
    label-quality histogram and the top issues (all text HTML-escaped).

    Returns
    -------
    str
        A complete HTML document with embedded PNG figures.
    """
    s = result.summary
    names: list[str] = list(s["classes"])
    nm = np.asarray(s["noise_matrix"]["values"], dtype=float)
    rates = np.array([s["noise_rate_per_class"][c] for c in names], dtype=float)
    shown = np.arange(len(names))
    if len(names) > MAX_HEATMAP_CLASSES:
        shown = np.sort(np.argsort(-rates, kind="stable")[:MAX_HEATMAP_CLASSES])
    heat = heatmap(
        nm[np.ix_(shown, shown)],
        [names[i] for i in shown],
        title="Estimated noise matrix P(given | true)"
        + (f" — {len(shown)} noisiest classes" if len(shown) < len(names) else ""),
        xlabel="true label",
        ylabel="given label",
    )
    top_rates = np.argsort(-rates, kind="stable")[: min(40, len(names))]
    bars = bar_chart(
        rates[top_rates],
        [names[i] for i in top_rates],
        title="Estimated share of wrong labels per given class",
        xlabel="error rate",
    )
    issues = result.issues
    scored = issues["label_quality"].notna().to_numpy()  # empty texts may have no score
    hist = histogram(
        issues["label_quality"].to_numpy()[scored],
        title="Label quality (lower = more suspicious)",
        xlabel="label_quality",
        split=issues["is_label_issue"].to_numpy()[scored],
        split_names=("not flagged", "flagged as label issue"),
    )
    top = issues[(issues["issue"] != "none") & (issues["issue"] != "empty_text")].head(TOP_ISSUES)
    rows: list[dict[Any, Any]] = top.to_dict("records")
    empty_ids: list[Any] = []
    if "is_empty_text" in issues.columns:
        empty_ids = issues.loc[issues["is_empty_text"], "item_id"].head(MAX_EMPTY_LISTED).tolist()
    health = sorted(s["class_health"], key=lambda r: -float(r.get("estimated_error_rate", 0) or 0))
    health_keys = [k for k in (health[0].keys() if health else []) if k != "class"]
    return (
        template_env()
        .get_template("audit.html.j2")
        .render(
            s=s,
            heat=heat,
            bars=bars,
            hist=hist,
            rows=rows,
            has_text="text" in issues.columns,
            health=health,
            health_keys=health_keys,
            n_top=len(rows),
            empty_ids=empty_ids,
            n_empty=int(s["counts"].get("empty_text", 0)),
        )
    )
