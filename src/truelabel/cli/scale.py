"""``truelabel scale audit|aggregate``: the audit and the label model on large data or Dask."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ._app import app, console, err_console, error_boundary

__all__ = ["scale_app"]

scale_app = typer.Typer(
    help="Run the audit or aggregation on large data: bounded memory, Dask, resumable.",
    no_args_is_help=True,
)
app.add_typer(scale_app, name="scale")


class EngineName(StrEnum):
    local = "local"
    dask = "dask"


class Learner(StrEnum):
    auto = "auto"
    logistic = "logistic"
    incremental = "incremental"


EngineOpt = Annotated[
    EngineName, typer.Option("--engine", help="local: chunks in sequence; dask: a cluster.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler tcp://HOST:PORT (default: a local cluster)."),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", help="Workers of the local Dask cluster.")
]
MemoryOpt = Annotated[
    str | None, typer.Option("--max-memory", help="Memory budget, e.g. 4GB (sets chunk sizes).")
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted run; finished stages are kept.")
]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Replace a non-run folder at --out.")
]


@scale_app.command("audit")
def audit(
    data: Annotated[Path, typer.Argument(help="Parquet file/folder, CSV, TSV or JSONL.")],
    label_column: Annotated[str, typer.Option("--label-column", help="Given label column.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    text_column: Annotated[
        str | None, typer.Option("--text-column", help="Text column to featurize.")
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Item id column.")] = None,
    featurizer: Annotated[
        str,
        typer.Option("--featurizer", help="auto (= static on these engines), static or minilm."),
    ] = "auto",
    pred_probs: Annotated[
        Path | None, typer.Option("--pred-probs", help="Out-of-sample probabilities .npy (N, K).")
    ] = None,
    vectors_file: Annotated[
        Path | None, typer.Option("--vectors-file", help="Precomputed features .npy (N, D).")
    ] = None,
    folds: Annotated[int, typer.Option("--folds", help="Cross-fitting folds.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    learner: Annotated[
        Learner, typer.Option("--learner", help="End model for cross-fitting.")
    ] = Learner.auto,
    engine: EngineOpt = EngineName.local,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    max_memory: MemoryOpt = None,
    chunk_rows: Annotated[
        int | None, typer.Option("--chunk-rows", help="Rows per chunk (overrides --max-memory).")
    ] = None,
    resume: ResumeOpt = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Find label errors in a large table, chunk by chunk or on Dask."""
    from ..scale import audit_large

    with error_boundary():
        result = audit_large(
            data,
            out=out,
            label=label_column,
            text=text_column,
            id=id_column,
            featurizer=featurizer,
            pred_probs=pred_probs,
            vectors_file=vectors_file,
            folds=folds,
            seed=seed,
            learner=learner.value,
            engine=engine.value,
            scheduler=scheduler,
            n_workers=workers,
            max_memory=max_memory,
            chunk_rows=chunk_rows,
            resume=resume,
            overwrite=overwrite,
        )
    s = result.summary
    table = Table(title=f"{s['n']:,} items, {s['counts']['label_error']:,} label issues")
    for col in ("given_label", "suggested_label", "label_quality"):
        table.add_column(col)
    for _, row in result.top_issues.head(10).iterrows():
        table.add_row(
            str(row["given_label"]), str(row["suggested_label"]), f"{row['label_quality']:.3f}"
        )
    console.print(table)
    times = ", ".join(f"{k} {v:.1f}s" for k, v in s["timings_s"].items())
    console.print(f"estimated noise rate {s['noise_rate']:.1%}; {times}")
    for w in s.get("warnings", []):
        err_console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
    console.print(f"wrote {result.out}")


@scale_app.command("aggregate")
def aggregate(
    votes: Annotated[Path, typer.Argument(help="Long votes table or a vote-store folder.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    item_column: Annotated[str, typer.Option("--item-column", help="Item id column.")] = "item_id",
    source_column: Annotated[
        str, typer.Option("--source-column", help="Source column.")
    ] = "source",
    label_column: Annotated[str, typer.Option("--label-column", help="Label column.")] = "label",
    model: Annotated[
        str, typer.Option("--model", help="dawid_skene, one_coin or ds_pooled.")
    ] = "dawid_skene",
    max_iter: Annotated[int | None, typer.Option("--max-iter", help="EM iterations.")] = None,
    engine: EngineOpt = EngineName.local,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    max_memory: MemoryOpt = None,
    chunk_votes: Annotated[
        int | None, typer.Option("--chunk-votes", help="Votes per chunk (overrides --max-memory).")
    ] = None,
    resume: ResumeOpt = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Dawid–Skene on a large votes table with EM steps streamed over chunks or on Dask."""
    from ..scale import aggregate_large

    with error_boundary():
        result = aggregate_large(
            votes,
            out=out,
            item_column=item_column,
            source_column=source_column,
            label_column=label_column,
            model=model,
            max_iter=max_iter,
            engine=engine.value,
            scheduler=scheduler,
            n_workers=workers,
            max_memory=max_memory,
            chunk_votes=chunk_votes,
            resume=resume,
            overwrite=overwrite,
        )
    s = result.summary
    table = Table(title=f"{s['n_items']:,} items, {s['n_votes']:,} votes, {s['n_iter']} EM steps")
    for col in ("source", "n_votes", "accuracy"):
        table.add_column(col)
    for _, row in result.sources.head(10).iterrows():
        table.add_row(str(row["source"]), f"{row['n_votes']:,}", f"{row['accuracy']:.3f}")
    console.print(table)
    console.print(f"wrote {result.out}")


@scale_app.command("predict")
def predict(
    model: Annotated[Path, typer.Argument(help="Model folder from `truelabel train`.")],
    data: Annotated[Path, typer.Argument(help="Parquet file/folder, CSV, TSV or JSONL.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    text_column: Annotated[
        str | None, typer.Option("--text-column", help="Text column (default: as trained).")
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Item id column.")] = None,
    alpha: Annotated[
        float | None, typer.Option("--alpha", help="Conformal level for prediction sets.")
    ] = None,
    engine: EngineOpt = EngineName.local,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    max_memory: MemoryOpt = None,
    chunk_rows: Annotated[
        int | None, typer.Option("--chunk-rows", help="Rows per chunk (overrides --max-memory).")
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Predict a large table chunk by chunk, or on Dask with the model loaded once per worker."""
    from ..scale import predict_large

    with error_boundary():
        result = predict_large(
            model,
            data,
            out=out,
            text=text_column,
            id=id_column,
            alpha=alpha,
            engine=engine.value,
            scheduler=scheduler,
            n_workers=workers,
            max_memory=max_memory,
            chunk_rows=chunk_rows,
            overwrite=overwrite,
        )
    s = result.summary
    console.print(
        f"predicted {s['n']:,} rows in {s['n_partitions']} parts ({s['seconds']:.1f}s); "
        f"wrote {result.out}"
    )
