"""``truelabel lf analyze``: coverage, overlap, conflict, polarity and accuracy of labeling functions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._app import app, console, error_boundary

__all__ = ["analyze", "lf_app"]

lf_app = typer.Typer(
    help="Labeling functions: analyse rules that vote or abstain.", no_args_is_help=True
)
app.add_typer(lf_app, name="lf")


@lf_app.command()
def analyze(
    data: Annotated[
        Path,
        typer.Argument(help="Table (csv/jsonl/parquet) or a WRENCH split .json with weak_labels."),
    ],
    lfs: Annotated[
        Path | None,
        typer.Option("--lfs", help="Python file defining labeling functions (and CLASSES)."),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option("--columns", help="Comma-separated columns, each one LF's votes."),
    ] = None,
    abstain: Annotated[
        str, typer.Option("--abstain", help="Abstain value in --columns (empty cells abstain too).")
    ] = "-1",
    gold_column: Annotated[
        str | None, typer.Option("--gold-column", help="Gold labels: adds empirical accuracy.")
    ] = None,
    classes: Annotated[
        str | None, typer.Option("--classes", help="Comma-separated class list.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the table as .csv or .parquet.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an --out file this command did not write.")
    ] = False,
) -> None:
    """Print the analysis table of a set of labeling functions."""
    from ..io import check_out_file, write_table_file
    from ..sources._lf_io import analyze_lfs

    with error_boundary():
        if out is not None:
            check_out_file(
                out,
                kind="lf-analyze",
                suffixes=(".csv", ".parquet"),
                inputs=[data, lfs],
                overwrite=overwrite,
                signature="lf,polarity,",
            )
        table, votes = analyze_lfs(
            data,
            lfs=lfs,
            columns=[c.strip() for c in columns.split(",")] if columns else None,
            abstain=abstain,
            gold_column=gold_column,
            classes=[c.strip() for c in classes.split(",")] if classes else None,
        )
        if out is not None:
            shown = table.assign(polarity=table["polarity"].astype(str))
            write_table_file(out, table if out.suffix == ".csv" else shown, kind="lf-analyze")
    t = Table(title=f"{len(table)} labeling functions on {votes.n_items} items")
    cols = [c for c in table.columns]
    for c in cols:
        t.add_column(c, justify="left" if c in ("lf", "polarity") else "right", no_wrap=c == "lf")
    for r in table.itertuples(index=False):
        cells = []
        for c, v in zip(cols, r, strict=True):
            if c == "polarity":
                cells.append(", ".join(str(x) for x in v))
            elif isinstance(v, float):
                cells.append("" if v != v else f"{v:.3f}")
            else:
                cells.append(str(v))
        t.add_row(*cells)
    console.print(t)
    covered = float((votes.votes_per_item() > 0).mean()) if votes.n_items else 0.0
    console.print(f"items labelled by at least one LF: {covered:.1%}")
