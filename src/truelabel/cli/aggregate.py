"""``truelabel aggregate``: many noisy sources -> one posterior per item + source quality."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._app import app, console, error_boundary

__all__ = ["aggregate"]


class Method(StrEnum):
    auto = "auto"
    mv = "mv"
    wawa = "wawa"
    ds = "ds"
    ds_pooled = "ds_pooled"
    onecoin = "onecoin"
    mace = "mace"
    glad = "glad"
    features = "features"
    best_source = "best_source"
    mc = "mc"
    mean = "mean"
    median = "median"
    bias_variance = "bias_variance"


class LabelType(StrEnum):
    auto = "auto"
    categorical = "categorical"
    numeric = "numeric"


@app.command()
def aggregate(
    votes: Annotated[
        Path,
        typer.Argument(
            help="Long votes table (item, source, label): csv/tsv/jsonl/parquet; or a WRENCH "
            "split .json; or, with --lfs, the data table the rules label."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Run folder to write (labels.parquet, sources.parquet, summary.json, report.html).",
        ),
    ],
    item_column: Annotated[str, typer.Option("--item-column", help="Item id column.")] = "item_id",
    source_column: Annotated[
        str, typer.Option("--source-column", help="Source (worker, rule, model) column.")
    ] = "source",
    label_column: Annotated[str, typer.Option("--label-column", help="Label column.")] = "label",
    weight_column: Annotated[
        str | None, typer.Option("--weight-column", help="Optional per-vote weight column.")
    ] = None,
    method: Annotated[
        Method,
        typer.Option(
            help="Label model; auto picks by gold agreement or held-out votes. Numeric labels: "
            "mean, median or bias_variance (auto)."
        ),
    ] = Method.auto,
    label_type: Annotated[
        LabelType,
        typer.Option(
            "--label-type",
            help="Classes or numbers; auto = numeric when every label is a number and they are "
            "fractional or many distinct values.",
        ),
    ] = LabelType.auto,
    interval_level: Annotated[
        float,
        typer.Option("--interval-level", help="Coverage of the per-item intervals (numeric)."),
    ] = 0.95,
    lfs: Annotated[
        Path | None,
        typer.Option(
            "--lfs",
            help="Python file of labeling functions: apply them to the VOTES table (read as "
            "data) and aggregate their votes in one step.",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option("--engine", help="Where --lfs run: local or dask (same votes)."),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (tcp://...); default: local."),
    ] = None,
    gold: Annotated[
        Path | None, typer.Option("--gold", help="Table of gold labels (clamped).")
    ] = None,
    gold_item_column: Annotated[
        str | None, typer.Option("--gold-item-column", help="Item column of --gold.")
    ] = None,
    gold_label_column: Annotated[
        str | None, typer.Option("--gold-label-column", help="Label column of --gold.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Table of all items (keeps items without votes; texts)."),
    ] = None,
    data_item_column: Annotated[
        str | None,
        typer.Option(
            "--data-item-column", help="Item id column of --data (default: --item-column)."
        ),
    ] = None,
    text_column: Annotated[
        str | None,
        typer.Option("--text-column", help="Text column of --data; enables --method features."),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="Comma-separated class list (default: labels seen)."),
    ] = None,
    ignore_unknown: Annotated[
        bool,
        typer.Option("--ignore-unknown", help="Drop votes for items that are not in --data."),
    ] = False,
    class_prior: Annotated[
        str | None,
        typer.Option(
            "--class-prior",
            help="Fixed class prior as class=weight pairs, e.g. 'ham=0.87,spam=0.13' "
            "(class shares of a labelled split); default: estimated.",
        ),
    ] = None,
    no_calibrate: Annotated[
        bool,
        typer.Option(
            "--no-calibrate",
            help="Report the label model's raw posterior instead of the one tempered on "
            "held-out votes (labels are the same either way).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a non-empty --out that is not a run.")
    ] = False,
) -> None:
    """Infer the most likely label of every item and the quality of every source."""
    from ..aggregate import aggregate as api_aggregate
    from ..io import check_out_dir

    with error_boundary():
        check_out_dir(out, kind="aggregate", inputs=[votes, gold, data, lfs], overwrite=overwrite)
    with error_boundary(), _engine(engine if lfs is not None else "local", scheduler) as eng:
        result = api_aggregate(
            votes,
            item_column=item_column,
            source_column=source_column,
            label_column=label_column,
            weight_column=weight_column,
            method=method.value,
            gold=gold,
            gold_item_column=gold_item_column,
            gold_label_column=gold_label_column,
            data=data,
            data_item_column=data_item_column,
            text_column=text_column,
            classes=[c.strip() for c in classes.split(",")] if classes else None,
            ignore_unknown=ignore_unknown,
            random_state=seed,
            class_prior=class_prior,
            calibrate=not no_calibrate,
            label_type=label_type.value,
            interval_level=interval_level,
            lfs=lfs,
            engine=eng,
        )
        result.save(out, overwrite=overwrite, meta={"command": "aggregate", "votes": str(votes)})
    s = result.summary
    if s.get("label_type") == "numeric":
        _print_numeric(result, out)
        return
    console.print(
        f"[bold]{s['n_items']}[/] items, [bold]{s['n_sources']}[/] sources, "
        f"[bold]{s['n_votes']}[/] votes, {s['n_classes']} classes; "
        f"Krippendorff's alpha {s['krippendorff_alpha']:.3f}"
    )
    console.print(f"method [bold]{s['method']}[/]: {s['method_reason']}", highlight=False)
    console.print(f"posterior: {s['posterior']}", highlight=False)
    for note in s["notes"]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    t = Table(title="Least reliable sources")
    for col in ("source", "votes", "est. accuracy", "agreement", "spammer"):
        t.add_column(col)
    src = result.sources[~result.sources["is_gold"].astype(bool) & (result.sources["n_votes"] > 0)]
    for r in src.head(10).itertuples(index=False):
        t.add_row(
            str(r.source),
            str(r.n_votes),
            f"{r.estimated_accuracy:.3f}",
            f"{r.agreement:.3f}",
            f"{r.spammer_score:.3f}",
        )
    console.print(t)
    console.print(f"wrote {out}/labels.parquet, sources.parquet, summary.json, report.html")


@contextmanager
def _engine(name: str, scheduler: str | None) -> Iterator[object]:
    """The engine labeling functions run on (a Dask cluster only when asked), closed after."""
    if name == "local" and scheduler is None:
        yield "local"
        return
    import logging

    from ..scale._engine import make_engine

    if logging.getLogger().level > logging.INFO:  # cluster chatter only with --verbose
        import distributed  # noqa: F401 - configures its loggers, which are quietened next

        for logger_name in list(logging.root.manager.loggerDict):
            if logger_name.split(".")[0] in ("distributed", "bokeh", "tornado"):
                logging.getLogger(logger_name).setLevel(logging.CRITICAL)
    eng = make_engine(name, scheduler=scheduler)
    try:
        yield eng
    finally:
        eng.close()


def _print_numeric(result: object, out: Path) -> None:
    s = result.summary  # type: ignore[attr-defined]
    console.print(
        f"[bold]{s['n_items']}[/] items, [bold]{s['n_sources']}[/] sources, "
        f"[bold]{s['n_votes']}[/] votes, numeric labels in "
        f"[{s['value_range'][0]:g}, {s['value_range'][1]:g}]; Krippendorff's alpha (interval) "
        f"{s['krippendorff_alpha_interval']:.3f}",
        highlight=False,
    )
    console.print(f"method [bold]{s['method']}[/]: {s['method_reason']}", highlight=False)
    for note in s["notes"]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(
        f"mean {s['interval_level']:.0%} interval width {s['mean_interval_width']:.4g}",
        highlight=False,
    )
    t = Table(title="Noisiest sources")
    for col in ("source", "votes", "bias", "scale", "noise sd"):
        t.add_column(col)
    src = result.sources  # type: ignore[attr-defined]
    src = src[~src["is_gold"].astype(bool) & (src["n_votes"] > 0)]
    for r in src.head(10).itertuples(index=False):
        t.add_row(
            str(r.source), str(r.n_votes), f"{r.bias:.4g}", f"{r.scale:.3f}", f"{r.noise_sd:.4g}"
        )
    console.print(t)
    console.print(f"wrote {out}/labels.parquet, sources.parquet, summary.json, report.html")
