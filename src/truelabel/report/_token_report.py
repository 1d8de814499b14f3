"""The token audit's ``report.html``: entity issues in their sentences, one page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._audit_report import template_env
from ._plots import bar_chart, histogram

if TYPE_CHECKING:
    from ..audit import TokenAuditResult

__all__ = ["render_token_report"]

TOP_ENTITIES = 150
TOP_TOKENS = 50


def render_token_report(result: TokenAuditResult) -> str:
    """Render the token audit report: issue kinds, the quality histogram, the most
    suspicious entity regions with their sentence, and the most suspicious tokens.

    Returns
    -------
    str
        A complete HTML document (all text HTML-escaped) with embedded PNG figures.
    """
    s = result.summary
    kinds = s["counts"]["entity_issues_by_kind"]
    names = [k for k in kinds if kinds[k] > 0] or list(kinds)
    bars = bar_chart(
        np.array([kinds[k] for k in names], dtype=float),
        names,
        title="Flagged entity regions by kind",
        xlabel="regions",
    )
    ent = result.entities
    hist = histogram(
        ent["label_quality"].to_numpy(),
        title="Entity label quality (lower = more suspicious)",
        xlabel="label_quality",
        split=ent["is_label_issue"].to_numpy(),
        split_names=("not flagged", "flagged"),
    )
    rows: list[dict[Any, Any]] = ent[ent["is_label_issue"]].head(TOP_ENTITIES).to_dict("records")
    for r in rows:  # the context is "left [text] right"; split it at the region itself
        ctx, mid = str(r["context"]), "[" + str(r["text"]) + "]"
        lo = max(ctx.find(mid), 0)
        r["left"], r["mid"], r["right"] = ctx[:lo], str(r["text"]), ctx[lo + len(mid) :]
    tok = result.issues
    tok_rows = tok[tok["is_label_issue"]].head(TOP_TOKENS).to_dict("records")
    return (
        template_env()
        .get_template("audit_token.html.j2")
        .render(s=s, bars=bars, hist=hist, rows=rows, tok_rows=tok_rows, n_top=len(rows))
    )
