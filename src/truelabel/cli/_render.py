"""Rich tables shared by commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["issues_table", "print_task_summary"]


def issues_table(
    issues: pd.DataFrame, *, top: int = 10, title: str = "Most likely label errors"
) -> Table:
    """A rich table of the ``top`` flagged rows of an audit's issues table."""
    t = Table(title=title, show_lines=False)
    has_text = "text" in issues.columns  # no text column with --pred-probs alone
    for col in ("item_id", "text", "given", "suggested", "quality", "issue"):
        if col != "text" or has_text:
            t.add_column(col, overflow="fold", max_width=60 if col == "text" else None)
    flagged = issues[issues["issue"] != "none"].head(top)
    for r in flagged.itertuples(index=False):
        text = str(getattr(r, "text", ""))
        t.add_row(
            str(r.item_id),
            *([text[:160] + ("…" if len(text) > 160 else "")] if has_text else []),
            f"[red]{r.given_label}[/] ({r.given_prob:.2f})",
            f"[green]{r.suggested_label}[/] ({r.suggested_prob:.2f})",
            f"{r.label_quality:.3f}",
            str(r.issue),
        )
    return t


def _print_token_audit(result: object, out: Path, *, top: int) -> None:
    from rich.markup import escape

    from ._app import console

    s = result.summary  # type: ignore[attr-defined]
    ent = result.entities  # type: ignore[attr-defined]
    t = Table(title="Most likely entity label errors", show_lines=False)
    for col in ("sentence", "context", "given", "suggested", "issue", "quality"):
        t.add_column(col, overflow="fold", max_width=70 if col == "context" else None)
    for r in ent[ent["is_label_issue"]].head(top).itertuples(index=False):
        t.add_row(
            str(r.sentence_id),
            escape(str(r.context)),
            f"[red]{escape(str(r.given_entities or 'O'))}[/]",
            f"[green]{escape(str(r.suggested_entities or 'O'))}[/]",
            str(r.issue),
            f"{r.label_quality:.2g}",
        )
    console.print(t)
    kinds = s["counts"]["entity_issues_by_kind"]
    console.print(
        f"{s['n_sentences']} sentences, {s['n_tokens']} tokens, {s['n_entities']} entities "
        f"({', '.join(s['entity_types'])}; {s['scheme']}) · flagged "
        f"{s['counts']['entity_issues']} entity regions ("
        + ", ".join(f"{v} {k}" for k, v in kinds.items() if v)
        + f") and {s['counts']['token_issues']} tokens",
        highlight=False,
    )
    for note in s.get("notes", []):
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(
        f"Report: [bold]{out / 'report.html'}[/]  ·  tables: {out / 'entities.parquet'}, "
        f"{out / 'issues.parquet'}"
    )


def _print_table_task_audit(result: object, out: Path, *, top: int) -> None:
    from rich.markup import escape

    from ._app import console

    s = result.summary  # type: ignore[attr-defined]
    iss = result.issues  # type: ignore[attr-defined]
    multi = s["task"] == "multilabel"
    t = Table(title="Most likely label errors", show_lines=False)
    for col in ("item_id", "text", "given", "suggested", "quality", "reason"):
        t.add_column(col, overflow="fold", max_width=60 if col == "text" else None)
    for r in iss[iss["issue"] != "none"].head(top).itertuples(index=False):
        text = str(getattr(r, "text", ""))
        given = str(r.given_label) if multi else f"{r.given_label:.4g}"
        sugg = str(r.suggested_label) if multi else f"{r.suggested_label:.4g}"
        t.add_row(
            escape(str(r.item_id)),
            escape(text[:160] + ("…" if len(text) > 160 else "")),
            f"[red]{escape(given)}[/]",
            f"[green]{escape(sugg)}[/]",
            f"{r.label_quality:.3g}",
            escape(str(r.reason)),
        )
    console.print(t)
    c = s["counts"]
    if multi:
        console.print(
            f"{s['n']} items, {s['n_tags']} tags ({s['mean_tags_per_item']:.2f} per item) · "
            f"estimated wrong tag decisions {100 * s['noise_rate']:.2f}% · flagged "
            f"{c['label_issue']} items ({c['missing_tags']} missing, {c['extra_tags']} extra tags)",
            highlight=False,
        )
        tables = f"{out / 'issues.parquet'}, {out / 'tags.parquet'}"
    else:
        console.print(
            f"{s['n']} items · out-of-sample MAE {s['oof_mae']:.4g}, R² {s['oof_r2']:.3f} · "
            f"flagged {c['label_issue']} label issues, {c['outlier']} implausible values",
            highlight=False,
        )
        tables = str(out / "issues.parquet")
    console.print(f"Report: [bold]{out / 'report.html'}[/]  ·  tables: {tables}")


#: How each task's audit result is printed (one entry per task, beside the others).
_TASK_PRINTERS: dict[str, Callable[..., None]] = {
    "token": _print_token_audit,
    "multilabel": _print_table_task_audit,
    "regression": _print_table_task_audit,
}


def print_task_summary(task: str, result: object, out: Path, *, top: int = 10) -> None:
    """Print the console summary of a non-classification audit result."""
    _TASK_PRINTERS[task](result, out, top=top)
