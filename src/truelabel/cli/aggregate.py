"""``truelabel aggregate``: many noisy sources -> one posterior per item + source quality."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ._app import app, console, error_boundary, say_inferred

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
    hmm = "hmm"
    ds_per_class = "ds_per_class"
    median = "median"
    bias_variance = "bias_variance"


class LabelType(StrEnum):
    auto = "auto"
    categorical = "categorical"
    numeric = "numeric"
    spans = "spans"
    multilabel = "multilabel"


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
            "mean, median or bias_variance (auto). Spans: ds (auto), hmm or mv."
        ),
    ] = Method.auto,
    label_type: Annotated[
        LabelType,
        typer.Option(
            "--label-type",
            help="Classes, numbers, spans or option sets; auto = multilabel when --label-sep "
            "is given, else numeric when every label is a number and they are fractional or "
            "many distinct values. spans: VOTES has item_id, source, start, end, label "
            "(character spans) and --data the texts (--text-column).",
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
    start_column: Annotated[
        str, typer.Option("--start-column", help="--label-type spans: span start column.")
    ] = "start",
    end_column: Annotated[
        str, typer.Option("--end-column", help="--label-type spans: span end column.")
    ] = "end",
    label_sep: Annotated[
        str | None,
        typer.Option(
            "--label-sep",
            help="--label-type multilabel: separator of the chosen options (default ',').",
        ),
    ] = None,
) -> None:
    """Infer the most likely label of every item and the quality of every source."""
    from ..aggregate import aggregate as api_aggregate
    from ..io import check_out_dir

    ids = {"item_column": item_column, "source_column": source_column}
    if label_type is LabelType.auto and label_sep is not None:
        say_inferred(
            "label type", "multilabel", "the options", "--label-sep splits option sets",
            "--label-type",
        )  # fmt: skip
        label_type = LabelType.multilabel
    if label_type is LabelType.multilabel:
        _aggregate_multilabel(
            votes,
            out,
            overwrite=overwrite,
            method=method,
            seed=seed,
            columns={
                **ids,
                "label_column": label_column,
                "label_sep": label_sep if label_sep is not None else ",",
                "gold": gold,
                "gold_item_column": gold_item_column,
                "gold_label_column": gold_label_column,
            },
            classes=[c.strip() for c in classes.split(",")] if classes else None,
            unused={
                "--weight-column": weight_column,
                "--lfs": lfs,
                "--data": data,
                "--class-prior": class_prior,
            },
        )
        return
    if label_sep is not None:
        with error_boundary():
            from .._errors import InputError

            raise InputError(
                f"--label-sep splits option sets; it does not apply to --label-type "
                f"{label_type.value} (use --label-type multilabel)."
            )
    if label_type is LabelType.spans:
        _aggregate_spans(
            votes,
            out,
            overwrite=overwrite,
            method=method,
            seed=seed,
            columns={
                **ids,
                "start_column": start_column,
                "end_column": end_column,
                "label_column": label_column,
                "data_item_column": data_item_column,
                "text_column": text_column or "text",
            },
            data=data,
            gold=gold,
            unused={
                "--weight-column": weight_column,
                "--lfs": lfs,
                "--gold-item-column": gold_item_column,
                "--gold-label-column": gold_label_column,
                "--classes": classes,
                "--class-prior": class_prior,
            },
        )
        return

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


#: --method for spans: auto and ds are token-level Dawid–Skene, hmm the sequence model.
_SPAN_METHOD = {Method.auto: "ds", Method.ds: "ds", Method.mv: "mv"}


def _print_method_notes(s: dict[str, Any]) -> None:
    """Print the chosen label model with its reason, then the run's notes."""
    console.print(f"method [bold]{s['method']}[/]: {s['method_reason']}", highlight=False)
    for note in s["notes"]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def _refuse_unused(unused: dict[str, object], label_type: str) -> None:
    """Refuse the given options (flag -> value, ``None`` = not given) this label type ignores."""
    from .._errors import InputError

    given = [flag for flag, v in unused.items() if v is not None]
    if given:
        raise InputError(f"{', '.join(given)} does not apply to --label-type {label_type}.")


def _aggregate_multilabel(
    votes: Path,
    out: Path,
    *,
    overwrite: bool,
    method: Method,
    seed: int,
    columns: dict[str, Any],
    classes: list[str] | None,
    unused: dict[str, object],
) -> None:
    from ..aggregate import AGGREGATE_TASKS

    with error_boundary():
        _refuse_unused(unused, "multilabel")
        name = "ds" if method.value == "auto" else method.value
        from ..io import check_out_dir

        check_out_dir(out, kind="aggregate", inputs=[votes, columns["gold"]], overwrite=overwrite)
        result = AGGREGATE_TASKS.get("multilabel")(
            votes, method=name, random_state=seed, classes=classes, **columns
        )
        result.save(out, overwrite=overwrite)
    s = result.summary
    console.print(
        f"[bold]{s['n_items']}[/] items, [bold]{s['n_sources']}[/] sources, "
        f"[bold]{s['n_votes']}[/] answers over {len(s['options'])} options · method "
        f"[bold]{s['method']}[/]"
        + (f" · {s['n_gold_items']} gold items clamped" if s.get("n_gold_items") else ""),
        highlight=False,
    )
    t = Table(title="Share of items given each option")
    t.add_column("option")
    t.add_column("share")
    for o, v in s["chosen_rate"].items():
        t.add_row(str(o), f"{v:.3f}")
    console.print(t)
    console.print(f"Labels: [bold]{out / 'labels.parquet'}[/]")


def _aggregate_spans(
    votes: Path,
    out: Path,
    *,
    overwrite: bool,
    method: Method,
    seed: int,
    columns: dict[str, str | None],
    data: Path | None,
    gold: Path | None,
    unused: dict[str, object],
) -> None:
    from .._errors import InputError
    from ..aggregate import AGGREGATE_TASKS
    from ..io import check_out_dir

    with error_boundary():
        if data is None:
            raise InputError(
                "--label-type spans needs --data: the table of item texts the span offsets "
                "index (item_id, text)."
            )
        _refuse_unused(unused, "spans")
        name = _SPAN_METHOD.get(method, "hmm" if method.value == "hmm" else None)
        if name is None:
            raise InputError(
                f"--method {method.value} does not aggregate spans; use ds (default), hmm or mv."
            )
        check_out_dir(out, kind="aggregate", inputs=[votes, data, gold], overwrite=overwrite)
        result = AGGREGATE_TASKS.get("token")(
            votes, data, method=name, random_state=seed, gold=gold, **columns
        )
        result.save(out, overwrite=overwrite, meta={"command": "aggregate", "votes": str(votes)})
    s = result.summary
    console.print(
        f"[bold]{s['n_items']}[/] items, [bold]{s['n_sources']}[/] sources, "
        f"[bold]{s['n_votes']}[/] token votes, types {', '.join(s['entity_types'])}: "
        f"[bold]{s['n_spans']}[/] consensus spans",
        highlight=False,
    )
    _print_method_notes(s)
    t = Table(title="Sources furthest from the consensus")
    for col in ("source", "items", "spans", "token agreement", "span F1"):
        t.add_column(col)
    for r in result.sources[result.sources["n_items"] > 0].head(10).itertuples(index=False):
        t.add_row(
            str(r.source),
            str(r.n_items),
            str(r.n_spans),
            f"{r.token_agreement:.3f}",
            f"{r.span_f1:.3f}",
        )
    console.print(t)
    console.print(
        f"wrote {out}/labels.parquet (spans), tokens.parquet, sources.parquet, summary.json, "
        "report.html"
    )


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
    _print_method_notes(s)
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
