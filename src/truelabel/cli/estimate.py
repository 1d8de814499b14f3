"""``truelabel estimate`` and ``truelabel plan``: valid estimates and gold budgets."""

from __future__ import annotations

import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .._errors import InputError
from ._app import app, console, err_console, error_boundary


class Outcome(StrEnum):
    auto = "auto"
    mean = "mean"
    proportions = "proportions"
    ols = "ols"
    logit = "logit"


class Method(StrEnum):
    dsl = "dsl"
    ppi = "ppi++"


PredOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--prediction-column",
        "-p",
        help="Prediction column (repeat, paired with --gold-column). Default: label.",
    ),
]
GoldColOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--gold-column",
        "-g",
        help="Column with gold values; empty = unlabeled (repeat for several). Default: gold.",
    ),
]
GoldFileOpt = Annotated[
    Path | None, typer.Option("--gold", help="Separate gold file joined on the item id.")
]
ItemOpt = Annotated[str, typer.Option(help="Item id column of DATA.")]
GoldItemOpt = Annotated[str, typer.Option(help="Item id column of the --gold file.")]
GoldLabelOpt = Annotated[str, typer.Option(help="Gold value column of the --gold file.")]
OutcomeOpt = Annotated[Outcome, typer.Option(help="What to estimate.")]
FormulaOpt = Annotated[str | None, typer.Option(help="Regression formula, e.g. 'gold ~ x1 + x2'.")]
ProbOpt = Annotated[
    str | None,
    typer.Option(help="Column with each gold row's known sampling probability (in (0, 1])."),
]
ClusterOpt = Annotated[str | None, typer.Option(help="Column for cluster-robust SEs.")]
MethodOpt = Annotated[
    Method, typer.Option(help="Valid estimator: dsl or ppi++ (both power-tuned).")
]
LevelOpt = Annotated[float, typer.Option(help="Confidence level.")]
SeedOpt = Annotated[int, typer.Option(help="Random seed (DSL cross-fitting, selection).")]


def _estimate_kwargs(**kw: Any) -> dict[str, Any]:
    preds = kw.pop("prediction_column") or ["label"]
    golds = kw.pop("gold_column") or None
    kw["prediction_column"] = preds[0] if len(preds) == 1 else preds
    kw["gold_column"] = (golds[0] if len(golds) == 1 else golds) if golds else None
    kw["outcome"] = kw["outcome"].value
    kw["method"] = kw["method"].value
    return kw


def _result_table(res: Any) -> Table:
    t = Table(title=f"{res.outcome}: {res.method} with {res.n_gold} gold of {res.n_total} rows")
    for col in ("term", "estimate", f"{res.level:.0%} CI", "classical CI", "naive"):
        t.add_column(col)
    for j, term in enumerate(res.terms):
        t.add_row(
            term,
            f"{res.estimate[j]:.4g}",
            f"[{res.ci_low[j]:.4g}, {res.ci_high[j]:.4g}]",
            f"[{res.classical.ci_low[j]:.4g}, {res.classical.ci_high[j]:.4g}]",
            f"{res.naive.estimate[j]:.4g}",
        )
    return t


@app.command("estimate")
def estimate_cmd(
    data: Annotated[
        Path, typer.Argument(help="Table with predictions (e.g. a run's labels.parquet).")
    ],
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("estimate-run"),
    prediction_column: PredOpt = None,
    gold_column: GoldColOpt = None,
    gold: GoldFileOpt = None,
    item_column: ItemOpt = "item_id",
    gold_item_column: GoldItemOpt = "item_id",
    gold_label_column: GoldLabelOpt = "label",
    outcome: OutcomeOpt = Outcome.auto,
    formula: FormulaOpt = None,
    sampling_prob_column: ProbOpt = None,
    cluster_column: ClusterOpt = None,
    method: MethodOpt = Method.dsl,
    level: LevelOpt = 0.95,
    seed: SeedOpt = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-run --out folder.")] = False,
) -> None:
    """Valid estimate (mean, class shares or regression) from predictions plus a gold sample."""
    from ..estimate import estimate, write_estimate_run
    from ..io import check_out_dir

    kw = _estimate_kwargs(
        prediction_column=prediction_column,
        gold_column=gold_column,
        gold=gold,
        item_column=item_column,
        gold_item_column=gold_item_column,
        gold_label_column=gold_label_column,
        outcome=outcome,
        formula=formula,
        sampling_prob_column=sampling_prob_column,
        cluster_column=cluster_column,
        method=method,
        level=level,
        random_state=seed,
    )
    with error_boundary(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # shown below from result.warnings
        check_out_dir(out, kind="estimate", inputs=[data, gold], overwrite=overwrite)
        result = estimate(data, **kw)
        write_estimate_run(
            result, out, overwrite=overwrite, meta={"command": "estimate", "data": str(data), **kw}
        )
    console.print(_result_table(result))
    for w in result.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    console.print(f"wrote {out}/estimate.json and {out}/report.html")


@app.command("plan")
def plan_cmd(
    data: Annotated[Path, typer.Argument(help="Table with predictions (and pilot gold rows).")],
    target_width: Annotated[
        float | None, typer.Option(help="Wanted full CI width; needs pilot gold rows.")
    ] = None,
    power: Annotated[float | None, typer.Option(help="Wanted power of the test term = 0.")] = None,
    effect: Annotated[float | None, typer.Option(help="Effect size for --power.")] = None,
    select: Annotated[
        int | None, typer.Option(help="Active design: choose this many items to label (expected).")
    ] = None,
    floor: Annotated[
        float | None,
        typer.Option(
            help="Uniform share of the active design, (0, 1]; default clip(5/sqrt(N), 0.2, 1)."
        ),
    ] = None,
    uncertainty_column: Annotated[
        str | None, typer.Option(help="Column scoring how uncertain each prediction is.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (plan.json / selection).")] = None,
    prediction_column: PredOpt = None,
    gold_column: GoldColOpt = None,
    gold: GoldFileOpt = None,
    item_column: ItemOpt = "item_id",
    gold_item_column: GoldItemOpt = "item_id",
    gold_label_column: GoldLabelOpt = "label",
    outcome: OutcomeOpt = Outcome.auto,
    formula: FormulaOpt = None,
    sampling_prob_column: ProbOpt = None,
    cluster_column: ClusterOpt = None,
    method: MethodOpt = Method.dsl,
    level: LevelOpt = 0.95,
    seed: SeedOpt = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-run --out folder.")] = False,
) -> None:
    """Gold labels needed for a target CI width/power, or pick items to label (--select N)."""
    from ..estimate import auto_floor, plan
    from ..estimate import select as select_items
    from ..io import RunDir, check_out_dir

    if select is not None:
        with error_boundary():
            if out is None:
                raise InputError("--select writes the chosen items; pass --out DIR.")
            check_out_dir(out, kind="plan-select", inputs=[data, gold], overwrite=overwrite)
            pred = (prediction_column or ["label"])[0]
            table = select_items(
                data,
                select,
                prediction_column=pred,
                item_column=item_column,
                uncertainty_column=uncertainty_column,
                floor="auto" if floor is None else floor,
                random_state=seed,
            )
            with RunDir(
                out,
                kind="plan-select",
                overwrite=overwrite,
                meta={
                    "command": "plan --select",
                    "data": str(data),
                    "budget": select,
                    "floor": auto_floor(select) if floor is None else floor,
                    "seed": seed,
                },
            ) as run:
                run.write_parquet("sampling_probs.parquet", table)
                chosen = table[table["selected"]].drop(columns=["selected"])
                run.write_text("selected.csv", chosen.to_csv(index=False))
        console.print(
            f"selected {int(table['selected'].sum())} of {len(table)} items (expected {select}); "
            f"label the 'gold' column of {out}/selected.csv, then run: truelabel estimate {data} "
            f"--gold {out}/selected.csv --gold-label-column gold "
            "--sampling-prob-column sampling_prob"
        )
        return
    kw = _estimate_kwargs(
        prediction_column=prediction_column,
        gold_column=gold_column,
        gold=gold,
        item_column=item_column,
        gold_item_column=gold_item_column,
        gold_label_column=gold_label_column,
        outcome=outcome,
        formula=formula,
        sampling_prob_column=sampling_prob_column,
        cluster_column=cluster_column,
        method=method,
        level=level,
        random_state=seed,
    )
    with error_boundary():
        if out is not None:
            check_out_dir(out, kind="plan", inputs=[data, gold], overwrite=overwrite)
        result = plan(data, target_width=target_width, power=power, effect=effect, **kw)
        if out is not None:
            with RunDir(
                out,
                kind="plan",
                overwrite=overwrite,
                meta={"command": "plan", "data": str(data), **kw},
            ) as run:
                run.write_json("plan.json", result.to_dict())
    t = Table(title=f"gold labels needed ({result.n_gold_pilot} pilot gold of {result.n_total})")
    for col in ("estimator", "term", "width now", "gold needed"):
        t.add_column(col)
    for r in result.rows:
        need = "unreachable" if r["n_needed"] is None else str(r["n_needed"])
        if r["n_needed"] is not None and not r["feasible"]:
            need += " (> rows)"
        t.add_row(r["estimator"], r["term"], f"{r['width_now']:.4g}", need)
    console.print(t)
