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
from typer.core import TyperGroup

from .._errors import InputError, TruelabelError
from .._optional import missing_extra

__all__ = [
    "GLOBAL_FLAGS",
    "app",
    "console",
    "describe_os_error",
    "err_console",
    "error_boundary",
    "hoist_global_options",
    "one_line",
    "resolve_task",
    "say_inferred",
]

#: options of the ``truelabel`` group also accepted after the subcommand
GLOBAL_FLAGS = frozenset({"-v", "--verbose", "-q", "--quiet"})


def hoist_global_options(group: Any, ctx: Any, args: list[str]) -> list[str]:
    """Move global flags written after the subcommand (``truelabel audit … -v``) to the front.

    Only whole tokens in :data:`GLOBAL_FLAGS` move; the value of an option that takes one
    (``--text-column -v``) and everything after ``--`` stay where they are.
    """
    start = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if start is None:
        return args
    takes_value: set[str] = set()
    cmd, i = group, start
    while i < len(args) and hasattr(cmd, "get_command"):
        sub = cmd.get_command(ctx, args[i])
        if sub is None:
            break
        for p in sub.params:
            if getattr(p, "param_type_name", "") == "option" and not (
                getattr(p, "is_flag", False) or getattr(p, "count", False)
            ):
                takes_value.update(p.opts)
                takes_value.update(p.secondary_opts)
        cmd, i = sub, i + 1
        while i < len(args) and args[i].startswith("-"):  # a nested group's own options
            i += 1
    head, rest = args[: start + 1], args[start + 1 :]
    moved: list[str] = []
    kept: list[str] = []
    skip = False
    for j, a in enumerate(rest):
        if a == "--":
            kept.extend(rest[j:])
            break
        if skip:
            kept.append(a)
            skip = False
        elif a in GLOBAL_FLAGS:
            moved.append(a)
        else:
            kept.append(a)
            skip = a in takes_value
    return moved + head + kept


class _Group(TyperGroup):
    """The ``truelabel`` group: global flags are accepted after the subcommand too."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(self, ctx, list(args)))


app = typer.Typer(
    name="truelabel",
    cls=_Group,
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
    - ``OSError`` (disk full, permission revoked during the run, port in use): exit 1;
    - a missing optional dependency (torch, Dask, the server stack): the extra to install, exit 1.

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
    except ModuleNotFoundError as exc:
        missing = missing_extra(exc)
        if missing is None:
            raise
        err_console.print(f"[bold red]error:[/] {escape(str(missing))}", **_PLAIN)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]; nothing was published to --out.")
        raise typer.Exit(code=130) from None


_PLAIN: dict[str, Any] = {"highlight": False, "soft_wrap": True, "markup": True}


def resolve_task(
    task: str | None,
    data: Any,
    *,
    label_column: str | None = None,
    spans: Any = None,
    label_sep: str | None = None,
) -> str:
    """``--task`` as given, or read from the data (:func:`truelabel._tasks.infer_task`).

    A task read from the data is said on stderr, with how to choose another, unless it is
    the plain default.
    """
    if task is not None:
        return task
    from .._tasks import infer_task

    name, why = infer_task(data, label_column=label_column, spans=spans, label_sep=label_sep)
    if why:
        say_inferred("task", name, "the data", why, "--task")
    return name


def say_inferred(what: str, name: str, source: str, why: str, option: str) -> None:
    """One stderr line for a choice a command made itself: ``task: regression, read from
    the data — <why>. Pass --task to choose another.``"""
    err_console.print(
        f"{what}: {name}, read from {source} — {escape(why)}. Pass {option} to choose another.",
        **_PLAIN,
    )


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        console.print(f"truelabel {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log each step (also after the command: audit … -v)."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only errors and warnings: no progress, no tables."
    ),
    version: bool = typer.Option(
        False, "--version", help="Show the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """truelabel: the most likely true labels, the items worth a look, and honest confidence."""
    from .._progress import NullSink, RichSink, progress_to

    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("truelabel").setLevel(logging.INFO if verbose else logging.NOTSET)
    console.quiet = quiet
    if quiet:
        ctx.with_resource(progress_to(NullSink()))
    elif err_console.is_terminal:
        ctx.with_resource(progress_to(RichSink(err_console)))
