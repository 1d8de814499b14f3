"""The typer application and the error boundary shared by every command."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from .._errors import InputError, TruelabelError

__all__ = ["app", "console", "describe_os_error", "err_console", "error_boundary", "one_line"]

app = typer.Typer(
    name="truelabel",
    help="Learn from imperfect labels: audit, aggregate, label, train, estimate, review.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def one_line(text: str) -> str:
    """``text`` on one line: newlines and runs of spaces collapsed (messages from libraries)."""
    return " ".join(str(text).split())


def describe_os_error(exc: OSError) -> str:
    """A one-line description of a failed file-system or network operation."""
    what = exc.strerror or type(exc).__name__
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    return one_line(f"{where}: {what}" if where else f"{what}: {exc}")


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn an expected failure into one red line on stderr and a non-zero exit.

    - ``InputError`` (bad data, file, column or option; the user can fix it): exit 2;
    - another ``TruelabelError`` (a service failed, the run could not finish): exit 1;
    - ``OSError`` (disk full, permission revoked during the run, port in use): exit 1.

    Any other exception is a bug and keeps its traceback. Staging folders are removed by
    :class:`truelabel.io.RunDir` on the way out, so nothing half-written is left behind.
    """
    try:
        yield
    except InputError as exc:
        err_console.print(f"[bold red]error:[/] {escape(one_line(str(exc)))}", **_PLAIN)
        raise typer.Exit(code=2) from None
    except TruelabelError as exc:
        err_console.print(f"[bold red]error:[/] {escape(one_line(str(exc)))}", **_PLAIN)
        raise typer.Exit(code=1) from None
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] {escape(describe_os_error(exc))}", **_PLAIN)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]; nothing was published to --out.")
        raise typer.Exit(code=130) from None


_PLAIN: dict[str, Any] = {"highlight": False, "soft_wrap": True, "markup": True}


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
) -> None:
    """truelabel: the most likely true labels, the items worth a look, and honest confidence."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
