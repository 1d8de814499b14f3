"""``truelabel taxonomy``: propose a class list (classes.yaml) from unlabeled texts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._app import app, console, error_boundary
from .label import Featurizer

__all__ = ["taxonomy"]


@app.command()
def taxonomy(
    data: Annotated[Path, typer.Argument(help="Table of items (csv/tsv/jsonl/parquet).")],
    text_column: Annotated[str, typer.Option("--text-column", help="Column with the text.")],
    out: Annotated[Path, typer.Option("--out", help="classes.yaml to write.")] = Path(
        "classes.yaml"
    ),
    k: Annotated[
        str, typer.Option("--k", help="Number of classes, or 'auto' (silhouette).")
    ] = "auto",
    featurizer: Annotated[Featurizer, typer.Option(help="Text embeddings.")] = Featurizer.auto,
    id_column: Annotated[str | None, typer.Option("--id-column")] = None,
    max_items: Annotated[
        int, typer.Option("--max-items", help="Cluster a random sample of at most this many rows.")
    ] = 20000,
    llm_base_url: Annotated[
        str | None,
        typer.Option("--llm-base-url", help="OpenAI-compatible endpoint to name classes."),
    ] = None,
    llm_model: Annotated[str, typer.Option("--llm-model")] = "default",
    llm_api_key_env: Annotated[str | None, typer.Option("--llm-api-key-env")] = None,
    llm_cache: Annotated[
        Path | None, typer.Option("--llm-cache", help="SQLite cache file.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an --out file this command did not write.")
    ] = False,
) -> None:
    """Cluster texts into proposed classes with keywords and typical texts; write classes.yaml."""
    from ..sources import LLMLabeler
    from ..sources._taxonomy import taxonomy as run_taxonomy

    with error_boundary():
        k_val: int | str = "auto"
        if k != "auto":
            from .._errors import InputError

            try:
                k_val = int(k)
            except ValueError:
                raise InputError(f"--k must be 'auto' or an integer; got {k!r}.") from None
        llm = None
        if llm_base_url:
            llm = LLMLabeler(
                llm_base_url, llm_model, api_key_env=llm_api_key_env, cache_path=llm_cache
            )
        tax = run_taxonomy(
            data,
            text_column=text_column,
            out=out,
            k=k_val,
            featurizer=featurizer.value,
            id_column=id_column,
            llm=llm,
            max_items=max_items,
            random_state=seed,
            overwrite=overwrite,
        )
    t = Table(title=f"{len(tax.classes)} proposed classes (k={tax.k}, named by {tax.named_by})")
    t.add_column("class")
    t.add_column("items", justify="right")
    t.add_column("keywords")
    for c, n in zip(tax.classes, tax.sizes, strict=True):
        t.add_row(c.name, str(n), ", ".join(c.keywords[:6]))
    console.print(t)
    console.print(f"wrote {out}; edit it, then: truelabel label DATA --classes-file {out}")
