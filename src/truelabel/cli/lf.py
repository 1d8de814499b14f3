"""``truelabel lf analyze`` / ``lf apply``: analyse labeling functions, or apply them to data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ._app import app, console, error_boundary

if TYPE_CHECKING:
    import pandas as pd

    from ..sources import VoteArrays

__all__ = ["analyze", "apply", "lf_app"]

lf_app = typer.Typer(
    help="Labeling functions: apply and analyse rules that vote or abstain.",
    no_args_is_help=True,
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
    _print_table(table, votes)


def _print_table(table: pd.DataFrame, votes: VoteArrays) -> None:
    """The analysis table and the covered share (shared by ``analyze`` and ``apply``)."""
    n_items = votes.n_items
    t = Table(title=f"{len(table)} labeling functions on {n_items} items")
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
    per_item = votes.votes_per_item()
    covered = float((per_item > 0).mean()) if n_items else 0.0
    console.print(f"items labelled by at least one LF: {covered:.1%}")


@lf_app.command()
def apply(
    data: Annotated[
        Path,
        typer.Argument(help="Table the rules label (csv/tsv/jsonl/parquet), one row per item."),
    ],
    lfs: Annotated[
        Path,
        typer.Option("--lfs", help="Python file defining labeling functions (and CLASSES)."),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Votes table to write (.parquet or .csv): item_id, source (the LF), label.",
        ),
    ],
    item_column: Annotated[
        str | None,
        typer.Option("--item-column", help="Item id column of DATA (default: row number)."),
    ] = None,
    classes: Annotated[
        str | None, typer.Option("--classes", help="Comma-separated class list (else CLASSES).")
    ] = None,
    gold_column: Annotated[
        str | None, typer.Option("--gold-column", help="Gold labels: adds empirical accuracy.")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="local (in this process) or dask (same votes).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (tcp://...); default: local."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an --out file this command did not write.")
    ] = False,
) -> None:
    """Apply labeling functions to every row of DATA and write their votes.

    The votes file feeds `truelabel aggregate VOTES --out RUN` (it is marked as
    labeling-function votes, so abstaining is modelled as an answer), or run both steps
    at once with `truelabel aggregate DATA --lfs RULES.py --out RUN`.
    """
    from ..io import check_out_file, write_table_file
    from ..sources._lf import lf_analysis
    from ..sources._lf_io import read_lf_votes, votes_table
    from .aggregate import _engine

    with error_boundary():
        check_out_file(
            out,
            kind="lf-apply",
            suffixes=(".parquet", ".csv"),
            inputs=[data, lfs],
            overwrite=overwrite,
            signature="item_id,source,label",
        )
    with error_boundary(), _engine(engine, scheduler) as eng:
        lv = read_lf_votes(
            data,
            lfs=lfs,
            gold_column=gold_column,
            classes=[c.strip() for c in classes.split(",")] if classes else None,
            item_column=item_column,
            engine=eng,
        )
        table = votes_table(lv.votes)
        write_table_file(out, table, kind="lf-apply")
        analysis = lf_analysis(lv.votes, lv.gold)
    _print_table(analysis, lv.votes)
    console.print(
        f"wrote {out}: {lv.votes.n_votes} votes of {lv.votes.n_sources} labeling functions on "
        f"{lv.votes.n_items} items"
    )
