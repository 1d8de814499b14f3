"""The multi-label and regression audits' ``report.html``, in the shared report style."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..report import histogram, render_report, scatter

if TYPE_CHECKING:
    from ._table_tasks import TableTaskAuditResult

__all__ = ["render_table_task_report"]

#: flagged items listed in the report's issue table (sortable and searchable)
TOP_ITEMS = 500


def render_table_task_report(result: TableTaskAuditResult) -> str:
    """The page of a multi-label or regression audit: the quality histogram, the per-tag
    table (multi-label) and the most suspicious items.

    Returns
    -------
    str
        A complete HTML document (all text HTML-escaped, charts inline SVG); it references
        ``report.css`` and ``report.js`` (written next to it by
        :func:`truelabel.report.write_report`).
    """
    iss = result.issues
    charts = [
        {
            "svg": histogram(
                iss["label_quality"].to_numpy(dtype=np.float64),
                title="Label quality (lower = more suspicious)",
                xlabel="label quality",
                value_range=(0.0, 1.0),
                split=iss["is_label_issue"].to_numpy(dtype=bool),
                split_names=("not flagged", "flagged as label issue"),
            ),
        }
    ]
    multilabel = result.task == "multilabel"
    if not multilabel and "suggested_label" in iss.columns:
        charts.append(
            {
                "svg": scatter(
                    iss["suggested_label"].to_numpy(dtype=np.float64),
                    iss["given_label"].to_numpy(dtype=np.float64),
                    title="Given value against the out-of-sample prediction",
                    xlabel="predicted (out of sample)",
                    ylabel="given",
                ),
                "caption": "Points far from the diagonal are the suspicious values.",
            }
        )
    flagged = iss[iss["issue"] != "none"]
    rows: list[dict[Any, Any]] = flagged.head(TOP_ITEMS).to_dict("records")
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
        r.setdefault("text", "")
    value = "label" if multilabel else "num"
    columns = [("rank", "#", "num"), ("item_id", "item", "text")]
    columns += [("text", "text", "long")] if "text" in iss.columns else []
    columns += [
        ("given_label", "given", value),
        ("suggested_label", "suggested", value),
        ("label_quality", "quality", "prob"),
        ("reason", "why", "long"),
    ]
    tags = result.tags.to_dict("records") if result.tags is not None else []
    return render_report(
        "truelabel.audit",
        "audit_table_task.html.j2",
        kind=f"audit --task {result.task}",
        s=result.summary,
        task=result.task,
        charts=charts,
        rows=rows,
        n_flagged=len(flagged),
        columns=columns,
        tags=tags,
    )
