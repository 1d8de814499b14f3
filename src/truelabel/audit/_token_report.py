"""The token audit's ``report.html``, rendered with the shared report templates and charts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..report import bar_chart, histogram, render_report

if TYPE_CHECKING:
    from ._token_api import TokenAuditResult

__all__ = ["render_token_report"]

#: flagged entity regions and tokens listed in the report's tables
TOP_ENTITIES = 500
TOP_TOKENS = 500


def _entity_rows(ent: Any) -> tuple[list[dict[Any, Any]], int]:
    """The flagged regions, most suspicious first, with their context split at the region."""
    flagged = ent[ent["is_label_issue"]]
    rows: list[dict[Any, Any]] = flagged.head(TOP_ENTITIES).to_dict("records")
    for i, r in enumerate(rows, start=1):  # the context is "left [text] right"
        ctx, mid = str(r["context"]), "[" + str(r["text"]) + "]"
        lo = max(ctx.find(mid), 0)
        r["rank"] = i
        r["left"], r["mid"], r["right"] = ctx[:lo], str(r["text"]), ctx[lo + len(mid) :]
        r["given_entities"] = r["given_entities"] or "O"
        r["suggested_entities"] = r["suggested_entities"] or "O"
        if "item_id" not in r:
            r["item_id"] = ""
    return rows, len(flagged)


def render_token_report(result: TokenAuditResult) -> str:
    """The token audit's page: issue kinds, the quality histogram, the per-type table, the
    most suspicious entity regions in their sentence and the most suspicious tokens.

    Returns
    -------
    str
        A complete HTML document (all text HTML-escaped, charts inline SVG); it references
        ``report.css`` and ``report.js`` (written next to it by
        :func:`truelabel.report.write_report`).
    """
    s = result.summary
    kinds = s["counts"]["entity_issues_by_kind"]
    names = [k for k in kinds if kinds[k] > 0] or list(kinds)
    ent = result.entities
    charts = [
        {
            "svg": bar_chart(
                np.array([kinds[k] for k in names], dtype=float),
                names,
                title="Flagged entity regions by kind",
                xlabel="regions",
                colour="#c44e52",
            ),
        },
        {
            "svg": histogram(
                ent["label_quality"].to_numpy(dtype=np.float64),
                title="Entity label quality (lower = more suspicious)",
                xlabel="label quality",
                value_range=(0.0, 1.0),
                split=ent["is_label_issue"].to_numpy(dtype=bool),
                split_names=("not flagged", "flagged"),
            ),
        },
    ]
    rows, n_flagged = _entity_rows(ent)
    tok = result.issues
    tok_flagged = tok[tok["is_label_issue"]]
    tok_rows: list[dict[Any, Any]] = tok_flagged.head(TOP_TOKENS).to_dict("records")
    settings = s["settings"]
    return render_report(
        "truelabel.audit",
        "audit_token.html.j2",
        kind="audit --task token",
        s=s,
        settings=settings,
        charts=charts,
        per_type=list(s["per_type"]),
        rows=rows,
        n_flagged=n_flagged,
        tok_rows=tok_rows,
        n_tok_flagged=len(tok_flagged),
    )
