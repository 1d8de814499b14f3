"""Stage progress for long commands: a spinner on a terminal, quiet in pipes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

__all__ = ["stage_printer"]


@contextmanager
def stage_printer(console: Console) -> Iterator[Callable[[str, str], None]]:
    """Yield an ``on_stage(name, "start"|"done")`` callback that shows progress.

    On a terminal a spinner names the running stage and a line is printed per finished
    stage with its time; when output is piped nothing is printed.
    """
    status = console.status("starting…") if console.is_terminal else None
    started: dict[str, float] = {}

    def on_stage(name: str, event: str) -> None:
        if event == "start":
            started[name] = time.perf_counter()
            if status is not None:
                status.update(f"[bold]{name}[/]…")
        elif console.is_terminal:
            console.print(
                f"  ✓ {name} ({time.perf_counter() - started.get(name, time.perf_counter()):.1f}s)"
            )

    if status is not None:
        with status:
            yield on_stage
    else:
        yield on_stage
