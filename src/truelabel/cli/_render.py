"""Rich tables shared by commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["issues_table"]


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
