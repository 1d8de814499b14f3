"""``truelabel distill``: a small student from a strong teacher, on a budget."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._app import app, console, error_boundary
from .train import FeaturizerChoice, ModelChoice


class SelectChoice(StrEnum):
    hybrid = "hybrid"
    uncertainty = "uncertainty"
    diversity = "diversity"
    random = "random"


@app.command()
def distill(
    data: Annotated[Path, typer.Argument(help="Items table (csv/tsv/jsonl/parquet).")],
    out: Annotated[Path, typer.Option(help="Model directory to write.")],
    text_column: Annotated[str | None, typer.Option(help="Column with the text.")] = None,
    feature_columns: Annotated[
        str | None, typer.Option(help="Tabular input: 'a,b,c' or 'auto'.")
    ] = None,
    vectors_column: Annotated[str | None, typer.Option(help="Precomputed vectors.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Column with item ids.")] = None,
    teacher_columns: Annotated[
        str | None,
        typer.Option(help="Teacher probabilities in the data: 'p_a,p_b,…' (a column per class)."),
    ] = None,
    teacher: Annotated[
        list[Path] | None,
        typer.Option(
            help="Teacher answers: a table with item_id and p_<class> or label columns; "
            "repeat for an ensemble (averaged)."
        ),
    ] = None,
    llm_base_url: Annotated[
        str | None, typer.Option(help="Teacher LLM: OpenAI-compatible endpoint.")
    ] = None,
    llm_model: Annotated[str, typer.Option(help="Teacher LLM: model name.")] = "default",
    llm_api_key_env: Annotated[
        str | None, typer.Option(help="Teacher LLM: environment variable with the API key.")
    ] = None,
    llm_cache: Annotated[Path | None, typer.Option(help="Teacher LLM: SQLite cache.")] = None,
    classes: Annotated[
        str | None, typer.Option(help="Teacher LLM: class names, comma-separated.")
    ] = None,
    label_column: Annotated[
        str | None, typer.Option(help="Gold labels where known (empty elsewhere).")
    ] = None,
    budget: Annotated[
        int | None, typer.Option(help="Items to ask the teacher about (default: all).")
    ] = None,
    select: Annotated[
        SelectChoice,
        typer.Option(
            help="How to choose the items to ask (random was best on average in the benchmark)."
        ),
    ] = SelectChoice.random,
    temperature: Annotated[float, typer.Option(help="Softens the teacher (> 1).")] = 2.0,
    featurizer: Annotated[FeaturizerChoice, typer.Option(help="Text features.")] = (
        FeaturizerChoice.minilm
    ),
    model: Annotated[ModelChoice, typer.Option(help="Student model.")] = ModelChoice.logreg,
    epochs: Annotated[int | None, typer.Option(help="Student training epochs.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-run --out folder.")] = False,
) -> None:
    """Distil a teacher (probability columns, answer tables, or an LLM) into a student model.

    The student is an ordinary model directory: `truelabel predict` and `serve-model`
    use it like any other.
    """
    from ..io import check_out_dir
    from ..learn._distill import distill_model, llm_teacher

    with error_boundary():
        check_out_dir(out, kind="model", inputs=[data, *(teacher or ())], overwrite=overwrite)
        ask = None
        if llm_base_url is not None:
            from .._errors import InputError
            from ..io import load_dataset
            from ..sources import LLMLabeler

            if not classes or text_column is None:
                raise InputError("an LLM teacher needs --classes and --text-column.")
            names = [c.strip() for c in classes.split(",") if c.strip()]
            labeler = LLMLabeler(
                llm_base_url,
                llm_model,
                api_key_env=llm_api_key_env,
                cache_path=llm_cache,
            )
            texts = load_dataset(data, text_column=text_column, require_labels=False).text
            ask = llm_teacher(labeler, list(texts if texts is not None else []), names)
        tm = distill_model(
            data,
            text_column=text_column,
            teacher_columns=[c.strip() for c in teacher_columns.split(",")]
            if teacher_columns
            else None,
            teacher_tables=list(teacher or ()),
            teacher=ask,
            label_column=label_column,
            id_column=id_column,
            vectors_column=vectors_column,
            feature_columns=feature_columns,
            featurizer=featurizer.value,
            model=model.value,
            budget=budget,
            select=select.value,
            temperature=temperature,
            epochs=epochs,
            random_state=seed,
        )
        tm.save(out, overwrite=overwrite)
    d = tm.metadata["distillation"]
    m = tm.metadata["metrics"]
    table = Table(title=f"student written to {out}")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("teacher", str(d["teacher"]))
    table.add_row("items asked / answered", f"{d['asked']} / {d['teacher_answered']}")
    table.add_row("gold rows", str(d["gold_rows"]))
    table.add_row("selection", d["select"])
    oos = "cross-fitted" if m["calibration_data"] == "crossfit" else "held-out"
    table.add_row(f"{oos} agreement with the teacher", f"{m['accuracy_vs_given_labels']:.3f}")
    console.print(table)
