"""``truelabel audit``: find and rank likely label errors in a labelled table."""

from __future__ import annotations

import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ._app import app, console, err_console, error_boundary, resolve_task
from ._render import issues_table, print_task_summary

__all__ = ["audit"]


class TaskName(StrEnum):
    classification = "classification"
    multilabel = "multilabel"
    token = "token"
    regression = "regression"


class FeaturizerName(StrEnum):
    auto = "auto"
    minilm = "minilm"
    static = "static"
    tfidf = "tfidf"
    vectors = "vectors"


@app.command()
def audit(
    data: Annotated[
        Path,
        typer.Argument(
            help="Table of items: .csv, .tsv, .jsonl or .parquet; with --task token a "
            "CoNLL/IOB file (or a table of texts with --spans)."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Run folder to write (issues.parquet, summary.json, report.html)."
        ),
    ],
    label_column: Annotated[
        str | None,
        typer.Option(
            "--label-column", help="Column with the given labels (optional with --votes)."
        ),
    ] = None,
    text_column: Annotated[
        str | None, typer.Option("--text-column", help="Column with the text to featurize.")
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column", help="Column with unique item ids (default: 0-based row number)."
        ),
    ] = None,
    featurizer: Annotated[
        FeaturizerName,
        typer.Option(
            help="auto = cross-fit tfidf, static and minilm within --time-budget and combine "
            "them by cross-fitted log-loss (static + ridge above 200k rows); "
            "vectors = use --vectors-column/--vectors-file."
        ),
    ] = FeaturizerName.auto,
    vectors_column: Annotated[
        str | None,
        typer.Option("--vectors-column", help="Column holding a feature vector per row."),
    ] = None,
    vectors_file: Annotated[
        Path | None,
        typer.Option("--vectors-file", help=".npy of shape (rows, dims) with one vector per row."),
    ] = None,
    pred_probs: Annotated[
        Path | None,
        typer.Option(
            "--pred-probs",
            help="Your own out-of-sample probabilities, .npy of shape (rows, classes).",
        ),
    ] = None,
    folds: Annotated[int, typer.Option(help="Folds of the cross-fitting.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    no_calibrate: Annotated[
        bool,
        typer.Option("--no-calibrate", help="Report the raw cross-fitted probabilities."),
    ] = False,
    end_model: Annotated[
        str,
        typer.Option(
            help="Cross-fitted model: logistic (accurate), ridge (fast, dense features), "
            "auto (logistic; ridge above 200k rows)."
        ),
    ] = "auto",
    text_checks: Annotated[
        bool | None,
        typer.Option(
            "--text-checks/--no-text-checks",
            help="Embed the texts for neighbours, outliers and near-duplicates (default: on "
            "without --pred-probs; off with it, where only exact duplicate texts are grouped).",
        ),
    ] = None,
    own_model: Annotated[
        bool,
        typer.Option(
            "--own-model",
            help="With --pred-probs: also cross-fit a model on the texts and blend it in with "
            "the weight that minimises cross-fitted log-loss (0 = your probabilities as given).",
        ),
    ] = False,
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget",
            help="Seconds --featurizer auto may spend on candidates after tfidf (default 300).",
        ),
    ] = None,
    drop_missing: Annotated[
        bool,
        typer.Option("--drop-missing", help="Leave out rows without a label instead of refusing."),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Replace --out even if it is not a previous truelabel run."
        ),
    ] = False,
    top: Annotated[int, typer.Option(help="How many issues to print.")] = 10,
    votes: Annotated[
        Path | None,
        typer.Option(
            help="Long votes table (item, source, label): audit the aggregated labels and flag sources."
        ),
    ] = None,
    vote_item_column: Annotated[str, typer.Option(help="Item column of --votes.")] = "item_id",
    vote_source_column: Annotated[str, typer.Option(help="Source column of --votes.")] = "source",
    vote_label_column: Annotated[str, typer.Option(help="Label column of --votes.")] = "label",
    engine: Annotated[
        str,
        typer.Option(
            help="memory: everything in RAM (full checks); local: bounded-memory chunks; "
            "dask: a Dask cluster (see --scheduler). local/dask run `truelabel scale audit`."
        ),
    ] = "memory",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler tcp://HOST:PORT (default: a local cluster).")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Workers of the local Dask cluster.")] = None,
    max_memory: Annotated[
        str | None, typer.Option("--max-memory", help="Memory budget for local/dask, e.g. 4GB.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="local/dask: continue an interrupted run.")
    ] = False,
    vote_method: Annotated[
        str,
        typer.Option(help="Label model for --votes (auto, mv, wawa, ds, onecoin, mace, glad)."),
    ] = "auto",
    task: Annotated[
        TaskName | None,
        typer.Option(
            help="What a label is: one class per item (classification), a set of tags "
            "(multilabel, see --label-sep), a tag per token / entity spans (token: DATA is a "
            "CoNLL/IOB file), or a number (regression). Default: read from the data (a "
            "CoNLL file, a column of tag lists, a column of numbers), else classification.",
            show_default=False,
        ),
    ] = None,
    spans: Annotated[
        Path | None,
        typer.Option(
            help="--task token: table of character spans (item_id, start, end, label) over "
            "the texts of DATA (--text-column, --id-column)."
        ),
    ] = None,
    label_sep: Annotated[
        str | None,
        typer.Option(
            "--label-sep",
            help="--task multilabel: separator of the tags in the label column (default ','; "
            "list columns need none).",
        ),
    ] = None,
    allow_new_classes: Annotated[
        bool,
        typer.Option(
            "--allow-new-classes",
            help="Accept --votes in classes that no label of --label-column uses (refused by "
            "default, naming the value and rows).",
        ),
    ] = False,
) -> None:
    """Find the items whose labels are probably wrong, estimate how noisy each class is,
    and write a report."""
    from ..audit import audit as run_audit
    from ..io import check_out_dir

    task_name = resolve_task(
        None if task is None else task.value,
        data,
        label_column=label_column if votes is None and engine == "memory" else None,
        spans=spans,
        label_sep=label_sep,
    )
    if task_name != "classification":
        _audit_other_task(
            task_name,
            data,
            out,
            overwrite=overwrite,
            top=top,
            options={
                "label_column": label_column,
                "text_column": text_column,
                "id_column": id_column,
                "pred_probs": pred_probs,
                "folds": folds,
                "random_state": seed,
                "spans": spans,
                "label_sep": label_sep,
                "featurizer": None if featurizer is FeaturizerName.auto else featurizer.value,
                "vectors_column": vectors_column,
                "vectors_file": vectors_file,
                "no_calibrate": no_calibrate or None,
                "end_model": None if end_model == "auto" else end_model,
                "drop_missing": drop_missing or None,
                "votes": votes,
                "engine": None if engine == "memory" else engine,
                "allow_new_classes": allow_new_classes or None,
            },
        )
        return
    if spans is not None:
        with error_boundary():
            raise _err("--spans labels tokens; add --task token.")
    if label_sep is not None:
        with error_boundary():
            raise _err("--label-sep splits tag sets; add --task multilabel.")
    if engine != "memory":
        from .scale import EngineName, Learner
        from .scale import audit as large_audit

        with error_boundary():
            if engine not in ("local", "dask"):
                raise _err(f"unknown --engine {engine!r}; use memory, local or dask.")
            if votes is not None or label_column is None:
                raise _err(
                    "--engine local/dask audits a --label-column; --votes needs --engine memory."
                )
        large_audit(
            data,
            label_column=label_column,
            out=out,
            text_column=text_column,
            id_column=id_column,
            featurizer="auto" if featurizer is FeaturizerName.vectors else featurizer.value,
            pred_probs=pred_probs,
            vectors_file=vectors_file,
            folds=folds,
            seed=seed,
            learner=Learner.logistic if end_model == "logistic" else Learner.auto,
            engine=EngineName(engine),
            scheduler=scheduler,
            workers=workers,
            max_memory=max_memory,
            chunk_rows=None,
            resume=resume,
            overwrite=overwrite,
        )
        return
    with error_boundary():
        if featurizer is FeaturizerName.vectors and vectors_column is None and vectors_file is None:
            raise _err(
                "--featurizer vectors needs --vectors-column NAME or --vectors-file FILE.npy."
            )
        check_out_dir(
            out,
            kind="audit",
            inputs=[data, votes, pred_probs, vectors_file],
            overwrite=overwrite,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="the cross-fitted model is near chance")
            result = run_audit(
                data,
                text=text_column,
                label=label_column,
                id=id_column,
                featurizer="auto" if featurizer is FeaturizerName.vectors else featurizer.value,
                vectors=vectors_column,
                vectors_file=vectors_file,
                pred_probs=pred_probs,
                folds=folds,
                random_state=seed,
                end_model=end_model,
                calibrate=not no_calibrate,
                text_checks=text_checks,
                time_budget=time_budget,
                own_model=own_model,
                drop_missing=drop_missing,
                votes=votes,
                vote_item_column=vote_item_column,
                vote_source_column=vote_source_column,
                vote_label_column=vote_label_column,
                vote_method=vote_method,
                allow_new_classes=allow_new_classes,
            )
            result.save(out, overwrite=overwrite)
    s = result.summary
    console.print(issues_table(result.issues, top=top))
    console.print(
        f"{s['n']} items, {s['n_classes']} classes · estimated wrong labels "
        f"[bold]{100 * s['noise_rate']:.1f}%[/] · flagged {s['counts']['label_error']} label issues, "
        f"{s['counts']['conflicting_duplicate']} conflicting near-duplicates, {s['counts']['outlier']} outliers"
        + (f", {s['counts']['empty_text']} empty texts" if s["counts"].get("empty_text") else "")
    )
    if "own_model" in s:
        console.print(
            f"Own text model blended in with weight {s['own_model']['weight']:.2f} "
            f"(log-loss {s['own_model']['log_loss_given']:.3f} given → "
            f"{s['own_model']['log_loss_blend']:.3f} blended)"
        )
    elif "model_selection" in s:
        console.print(
            f"Model: {s['model_selection']['chosen']} (cross-fitted log-loss "
            f"{s['model_selection']['log_loss']:.3f})"
        )
    if "sources" in s:
        src = s["sources"]
        console.print(
            f"Sources: {src['n_sources']} (label model {src['label_model']}); suspect: "
            + (", ".join(src["suspect_sources"][:20]) or "none")
        )
    for w in s.get("warnings", []):
        err_console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
    console.print(f"Report: [bold]{out / 'report.html'}[/]  ·  table: {out / 'issues.parquet'}")


#: Options every task receives when given (the task's audit function takes them or the
#: dispatcher names the one that does not apply).
_DEFAULTS = {"folds": 5, "random_state": 0}


def _audit_other_task(
    task: str, data: Path, out: Path, *, overwrite: bool, top: int, options: dict[str, object]
) -> None:
    """Audit a non-classification task through the stage's registry and print its summary."""
    from ..audit import audit_task
    from ..io import check_out_dir

    given = {
        k: v
        for k, v in options.items()
        if v is not None and not (k in _DEFAULTS and v == _DEFAULTS[k])
    }
    given.update({k: options[k] for k in _DEFAULTS})
    with error_boundary():
        check_out_dir(
            out,
            kind="audit",
            inputs=[data, options.get("spans"), options.get("pred_probs")],
            overwrite=overwrite,
        )
        result = audit_task(task, data, **given)
        result.save(out, overwrite=overwrite)
    print_task_summary(task, result, out, top=top)


def _err(msg: str) -> Exception:
    from .._errors import InputError

    return InputError(msg)
