"""The multi-label and regression audits' ``report.html``: one page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._audit_report import template_env
from ._plots import histogram

if TYPE_CHECKING:
    from ..audit._table_tasks import TableTaskAuditResult

__all__ = ["render_table_task_report"]

TOP_ITEMS = 150


def render_table_task_report(result: TableTaskAuditResult) -> str:
    """Render the report: the quality histogram, the per-tag table (multi-label) and the
    most suspicious items.

    Returns
    -------
    str
        A complete HTML document (all text HTML-escaped) with an embedded PNG figure.
    """
    iss = result.issues
    hist = histogram(
        iss["label_quality"].to_numpy(),
        title="Label quality (lower = more suspicious)",
        xlabel="label_quality",
        split=iss["is_label_issue"].to_numpy(),
        split_names=("not flagged", "flagged"),
    )
    rows: list[dict[Any, Any]] = iss[iss["issue"] != "none"].head(TOP_ITEMS).to_dict("records")
    tags = result.tags.to_dict("records") if result.tags is not None else []
    return (
        template_env()
        .get_template("audit_table_task.html.j2")
        .render(s=result.summary, hist=hist, rows=rows, tags=tags, task=result.task)
    )
