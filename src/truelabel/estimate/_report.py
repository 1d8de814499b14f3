"""The ``report.html`` of ``estimate`` and ``plan`` runs (shared templates and charts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..report import (
    PALETTE,
    bar_chart,
    histogram,
    interval_chart,
    reliability_chart_from_bins,
    render_report,
)

if TYPE_CHECKING:
    import pandas as pd

    from ._plan import GoldPlan
    from ._result import EstimateResult

__all__ = ["render_estimate_report", "render_plan_report", "render_select_report"]

#: terms drawn in the interval chart (all are in the table)
MAX_TERMS_DRAWN = 25


def render_estimate_report(result: EstimateResult, title: str = "Valid estimate") -> str:
    """The estimate's page: the valid, classical and naive intervals of every term."""
    r = result
    labels: list[str] = []
    est, lo, hi, colours = [], [], [], []
    for j, term in enumerate(r.terms[:MAX_TERMS_DRAWN]):
        for name, iv, colour in (
            (r.method, r.valid, PALETTE["blue"]),
            ("classical", r.classical, PALETTE["grey"]),
            ("naive", r.naive, PALETTE["red"]),
        ):
            labels.append(f"{term} · {name}")
            est.append(float(iv.estimate[j]))
            lo.append(float(iv.ci_low[j]))
            hi.append(float(iv.ci_high[j]))
            colours.append(colour)
    charts = [
        {
            "svg": interval_chart(
                labels,
                np.array(est),
                np.array(lo),
                np.array(hi),
                colours=colours,
                title=f"{r.level:.0%} intervals per term",
                xlabel="estimate",
                reference=0.0 if r.outcome in ("ols", "logit") else None,
            ),
            "caption": f"Blue: {r.method} (valid, uses the gold rows to correct the predictions); "
            "grey: classical (gold rows only); red: naive (predictions taken as truth, biased "
            "when they are wrong)."
            + (
                f" First {MAX_TERMS_DRAWN} of {len(r.terms)} terms."
                if len(r.terms) > MAX_TERMS_DRAWN
                else ""
            ),
        }
    ]
    check = r.extra.get("gold_check") or {}
    rel = check.get("reliability")
    if rel:
        charts.append(
            {
                "svg": reliability_chart_from_bins(
                    rel,
                    title="Reliability of the predictions on the gold rows",
                    against="share matching the gold label",
                ),
                "caption": "The predicted probabilities against the gold labels. The valid "
                "interval stays valid either way; better predictions make it narrower.",
            }
        )
    rows = []
    for j, term in enumerate(r.terms):
        rows.append(
            {
                "term": term,
                "estimate": float(r.estimate[j]),
                "se": float(r.se[j]),
                "low": float(r.ci_low[j]),
                "high": float(r.ci_high[j]),
                "classical": float(r.classical.estimate[j]),
                "classical_width": float(r.classical.ci_high[j] - r.classical.ci_low[j]),
                "width": float(r.ci_high[j] - r.ci_low[j]),
                "naive": float(r.naive.estimate[j]),
                "lam": float(np.asarray(r.lam)[j]),
            }
        )
    cards = [
        {"value": r.outcome, "label": "outcome"},
        {"value": r.method, "label": "valid estimator"},
        {"value": f"{r.n_gold:,} of {r.n_total:,}", "label": "gold rows"},
        {"value": f"{r.level:.0%}", "label": "confidence level"},
    ]
    if check.get("accuracy") is not None:
        cards.append(
            {
                "value": f"{100 * check['accuracy']:.1f}%",
                "label": "prediction accuracy on the gold rows",
                "tone": "neutral",
                "note": f"{check.get('n', r.n_gold):,} gold rows",
            }
        )
    return render_report(
        "truelabel.estimate",
        "estimate_report.html.j2",
        kind="estimate",
        title=title,
        r=r,
        cards=cards,
        charts=charts,
        rows=rows,
        warnings=list(r.warnings),
    )


def render_plan_report(plan: GoldPlan, *, data: str = "") -> str:
    """The page of ``truelabel plan``: gold rows needed per estimator and term."""
    rows = [
        {
            "estimator": row["estimator"],
            "term": row["term"],
            "width_now": row["width_now"],
            "n_needed": row["n_needed"],
            "feasible": "yes" if row["feasible"] else "no",
        }
        for row in plan.rows
    ]
    charts = []
    for est in dict.fromkeys(row["estimator"] for row in plan.rows):
        sub = [row for row in plan.rows if row["estimator"] == est]
        vals = np.array(
            [np.nan if row["n_needed"] is None else row["n_needed"] for row in sub], dtype=float
        )
        charts.append(
            {
                "svg": bar_chart(
                    vals,
                    [row["term"] for row in sub],
                    title=f"Gold rows needed: {est}",
                    xlabel="gold rows (uniform sample)",
                    log_x=bool(np.nanmax(vals, initial=1) > 50 * np.nanmin(vals, initial=1)),
                    value_labels=[
                        "unreachable" if row["n_needed"] is None else f"{row['n_needed']:,}"
                        for row in sub
                    ],
                    colour=PALETTE["grey"] if est == "classical" else PALETTE["blue"],
                ),
                "caption": "Unreachable: the predictions' own noise over all rows is wider than "
                "the target, whatever the gold budget.",
            }
        )
    target = (
        f"interval width {plan.target_width:g}"
        if plan.target_width is not None
        else f"power {plan.power:g}"
    )
    cards = [
        {"value": target, "label": "target"},
        {"value": f"{plan.n_gold_pilot:,}", "label": "pilot gold rows"},
        {"value": f"{plan.n_total:,}", "label": "rows"},
        {"value": f"{plan.level:.0%}", "label": "confidence level"},
    ]
    return render_report(
        "truelabel.estimate",
        "plan_report.html.j2",
        kind="plan",
        cards=cards,
        charts=charts,
        rows=rows,
        data=data,
        selected=None,
    )


def render_select_report(table: pd.DataFrame, *, budget: int, floor: float, data: str = "") -> str:
    """The page of ``truelabel plan --select``: the active design and the chosen items."""
    pi = table["sampling_prob"].to_numpy(dtype=float)
    chosen = table[table["selected"]]
    charts = [
        {
            "svg": histogram(
                pi,
                title="Sampling probability of each row",
                xlabel="probability of being selected",
                value_range=(0.0, max(float(pi.max()), 1e-9)),
            ),
            "caption": f"Uncertain predictions are selected more often; every row keeps at least "
            f"the uniform share (floor {floor:.2f}) so the estimate stays valid.",
        }
    ]
    cards = [
        {"value": f"{int(table['selected'].sum()):,}", "label": "rows selected"},
        {"value": f"{budget:,}", "label": "expected budget"},
        {"value": f"{len(table):,}", "label": "rows"},
        {"value": f"{floor:.2f}", "label": "uniform share (floor)"},
    ]
    item_col = str(table.columns[0])
    rows = [
        {"item_id": i, "sampling_prob": float(p)}
        for i, p in zip(
            chosen[item_col].head(2000), chosen["sampling_prob"].head(2000), strict=True
        )
    ]
    return render_report(
        "truelabel.estimate",
        "plan_report.html.j2",
        kind="plan --select",
        cards=cards,
        charts=charts,
        rows=[],
        data=data,
        selected={"rows": rows, "total": len(chosen)},
    )
