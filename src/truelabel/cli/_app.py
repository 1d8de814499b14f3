"""The typer application and the error boundary shared by every command."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from .._errors import TruelabelError

__all__ = ["app", "console", "err_console", "error_boundary"]

app = typer.Typer(
    name="truelabel",
    help="Learn from imperfect labels: audit, aggregate, label, train, estimate, review.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn a ``TruelabelError`` into one red line on stderr and exit status 2.

    Any other exception is a bug and keeps its traceback.
    """
    try:
        yield
    except TruelabelError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]; nothing was published to --out.")
        raise typer.Exit(code=130) from None


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
) -> None:
    """truelabel: the most likely true labels, the items worth a look, and honest confidence."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
