"""The audit's ``report.html``, rendered with the shared report templates and charts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..report import (
    bar_chart,
    confusion_chart,
    histogram,
    reliability_chart_from_bins,
    render_report,
)

if TYPE_CHECKING:
    from ._result import AuditResult

__all__ = ["reliability_bins", "render_audit_page", "render_audit_report"]

#: flagged rows listed in the report's issue table (sortable and searchable)
TOP_ISSUES = 500
MAX_EMPTY_LISTED = 200


def _codes(values: pd.Series, classes: list[Any]) -> np.ndarray:
    """Class codes of ``values`` (-1 where not a class), vectorised."""
    index = pd.Index([str(c) for c in classes])
    return np.asarray(index.get_indexer(pd.Index(values.astype(str))), dtype=np.int64)


def reliability_bins(result: AuditResult) -> dict[str, Any] | None:
    """Reliability bins of the reported probabilities against the given labels."""
    from ..calibrate import reliability_diagram

    issues = result.issues
    if "row" not in issues.columns or result.pred_probs is None:
        return None
    p = np.asarray(result.pred_probs, dtype=np.float64)
    if p.ndim != 2:
        return None
    order = np.argsort(issues["row"].to_numpy(), kind="stable")
    given = _codes(issues["given_label"].iloc[order], list(result.classes))
    rows = issues["row"].to_numpy()[order]
    ok = (given >= 0) & np.isfinite(p[rows]).all(axis=1)
    if ok.sum() < 10:
        return None
    probs = p[rows[ok]]
    probs = probs / probs.sum(axis=1, keepdims=True)
    return reliability_diagram(probs.astype(np.float32), given[ok], n_bins=10).to_dict()


def _reliability_chart(bins: dict[str, Any]) -> str:
    svg = reliability_chart_from_bins(
        bins,
        title="Reliability of the reported probabilities",
        against="share matching the given label",
    )
    assert svg is not None
    return svg


def _charts(
    s: dict[str, Any], issues: pd.DataFrame, rel: dict[str, Any] | None
) -> list[dict[str, str]]:
    names = [str(c) for c in s["classes"]]
    nm = np.asarray(s["noise_matrix"]["values"], dtype=np.float64)
    rates = np.array([s["noise_rate_per_class"][c] for c in s["classes"]], dtype=np.float64)
    prior = np.array([s.get("prior", {}).get(c, np.nan) for c in s["classes"]], dtype=np.float64)
    counts = nm * prior[None, :] * float(s["n"])  # P(given, true) x items
    charts = [
        {
            "svg": confusion_chart(
                nm,
                names,
                title="Estimated noise: P(given label | true label)",
                row_name="given",
                col_name="true",
                value_name="P(given | true)",
                counts=counts if np.isfinite(counts).all() else None,
            ),
            "caption": "Off-diagonal cells are labels given for another true class. With many "
            "classes the largest such cells are listed as 'given ← true' pairs.",
        },
        {
            "svg": bar_chart(
                rates,
                names,
                title="Estimated share of wrong labels per given class",
                xlabel="estimated error rate",
                value_labels=[f"{100 * r:.1f}%" for r in rates],
                colour="#c44e52",
            ),
            "caption": "Classes with the highest estimated share of mislabelled items first.",
        },
    ]
    q = issues["label_quality"].to_numpy(dtype=np.float64)
    scored = np.isfinite(q)  # empty texts may have no score
    charts.append(
        {
            "svg": histogram(
                q[scored],
                title="Label quality (lower = more suspicious)"
                + ("" if len(q) >= int(s["n"]) else f" — the {len(q):,} lowest"),
                xlabel="label quality",
                value_range=(0.0, 1.0),
                split=issues["is_label_issue"].to_numpy(dtype=bool)[scored],
                split_names=("not flagged", "flagged as label issue"),
            ),
        }
    )
    if rel is not None:
        charts.append(
            {
                "svg": _reliability_chart(rel),
                "caption": "Measured against the given labels, which are partly wrong: a "
                "well-calibrated model sits below the diagonal by about the noise rate.",
            }
        )
    return charts


def _issue_rows(issues: pd.DataFrame) -> tuple[list[dict[Any, Any]], int]:
    if "issue" not in issues.columns:  # the scale engines' top issues: label errors only
        issues = issues.assign(
            issue=np.where(issues["is_label_issue"].to_numpy(dtype=bool), "label_error", "none"),
            reason="",
        )
    keep = issues["issue"] != "none"
    if "is_empty_text" in issues.columns:
        keep &= ~issues["is_empty_text"].astype(bool)
    keep &= issues["issue"] != "empty_text"
    top = issues[keep]
    cols = ["item_id", "given_label", "given_prob", "suggested_label", "suggested_prob"]
    cols += ["label_quality", "issue", "reason"] + (["text"] if "text" in issues.columns else [])
    rows = top.head(TOP_ISSUES)[cols].to_dict("records")
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    return rows, int(keep.sum())


def render_audit_report(result: AuditResult) -> str:
    """The audit's report page (all text HTML-escaped, charts inline SVG).

    Returns
    -------
    str
        A complete HTML document; it references ``report.css`` and ``report.js``
        (written next to it by :func:`truelabel.report.write_report`).
    """
    return render_audit_page(
        result.summary,
        result.issues,
        reliability=reliability_bins(result),
        sources=result.extra.get("sources"),
    )


def render_audit_page(
    summary: dict[str, Any],
    issues: pd.DataFrame,
    *,
    reliability: dict[str, Any] | None = None,
    sources: pd.DataFrame | None = None,
) -> str:
    """The audit page from a summary and an issues table sorted most suspicious first.

    Every engine's audit ends in :func:`truelabel.audit._api.finish_audit`, so every
    engine's report is this page.

    Parameters
    ----------
    summary : dict
        The run's ``summary.json``.
    issues : DataFrame
        ``item_id``, ``given_label``, ``suggested_label``, ``given_prob``,
        ``suggested_prob``, ``label_quality``, ``is_label_issue`` (and ``text``,
        ``issue``, ``reason`` when known), most suspicious first.
    reliability : dict, optional
        :meth:`truelabel.calibrate.ReliabilityDiagram.to_dict` of the reported
        probabilities against the given labels.
    sources : DataFrame, optional
        The per-source table of an audit of votes.
    """
    s = summary
    rows, n_flagged = _issue_rows(issues)
    health = sorted(
        s.get("class_health", []), key=lambda r: -float(r.get("estimated_error_rate", 0) or 0)
    )
    health_cols = [("class", "class", "label")] + [
        (k, k.replace("_", " "), "num" if isinstance(v, int | float) else "label")
        for k, v in (health[0].items() if health else [])
        if k != "class"
    ]
    empty_ids: list[Any] = []
    if "is_empty_text" in issues.columns:
        empty_ids = issues.loc[issues["is_empty_text"].astype(bool), "item_id"].tolist()
    src_rows = sources.to_dict("records") if sources is not None else []
    src_cols = (
        [
            (c, c.replace("_", " "), "num" if pd.api.types.is_numeric_dtype(sources[c]) else "text")
            for c in sources.columns
        ]
        if sources is not None
        else []
    )
    counts = s.get("counts", {})
    return render_report(
        "truelabel.audit",
        "audit_report.html.j2",
        kind="audit"
        + (f" --engine {s['settings']['engine']}" if s.get("settings", {}).get("engine") else ""),
        s=s,
        counts={k: counts.get(k) for k in ("label_error", "conflicting_duplicate", "outlier")},
        charts=_charts(s, issues, reliability),
        rows=rows,
        n_flagged=n_flagged,
        has_text="text" in issues.columns,
        health=health,
        health_cols=health_cols,
        empty_ids=empty_ids[:MAX_EMPTY_LISTED],
        n_empty=int(counts.get("empty_text", len(empty_ids))),
        agreement=s.get("model_agreement") or {},
        src_rows=src_rows,
        src_cols=src_cols,
    )
