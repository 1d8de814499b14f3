"""Progress of long steps: one system for the library and the command line.

Library code reports what it is doing and stays silent about how it is shown::

    with progress("cross-fit", total=n_folds, unit="folds") as advance:
        for fold in folds:
            ...
            advance(1)

Where it goes is chosen by the caller with :func:`progress_to`. Nothing installed (a
script, a notebook, a test): a line on the ``truelabel.progress`` logger at INFO when a
step ends and at most every 10 seconds while it runs. The ``truelabel`` command installs a
rich progress display on a terminal (bars with counts and ETA, a note such as the LLM
budget spent) and nothing in a pipe or with ``--quiet``.

``advance`` may be called from worker threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

__all__ = [
    "Advance",
    "LogSink",
    "NullSink",
    "ProgressSink",
    "RichSink",
    "progress",
    "progress_to",
    "sink_for",
]

logger = logging.getLogger("truelabel.progress")

_LOG_EVERY_S = 10.0


class Advance(Protocol):
    """``advance(n=1, *, completed=None, total=None, note=None, unit=None)``: report progress.

    ``n`` units more were done, or ``completed`` units in all; ``total`` fixes the total
    when it becomes known; ``note`` is a short status shown beside the bar (e.g. "spent
    120 calls, 34k tokens"); ``unit`` renames what is counted.
    """

    def __call__(
        self,
        n: float = 1,
        *,
        completed: float | None = None,
        total: float | None = None,
        note: str | None = None,
        unit: str | None = None,
    ) -> None: ...


class ProgressSink(Protocol):
    """Where progress goes: ``task(name, total, unit)`` is a context yielding ``Advance``."""

    def task(
        self, name: str, total: float | None, unit: str
    ) -> AbstractContextManager[Advance]: ...


_SINK: ContextVar[ProgressSink | None] = ContextVar("truelabel_progress_sink", default=None)


class _Open:
    """The step running in this context; a sized sub-step may draw its bar in its row."""

    def __init__(self, advance: Advance, sized: bool) -> None:
        self.advance = advance
        self.sized = sized
        self.lent = False


_CURRENT: ContextVar[_Open | None] = ContextVar("truelabel_progress_current", default=None)


class _Counter:
    """Thread-safe running count, total and note of one task."""

    def __init__(self, total: float | None) -> None:
        self.done = 0.0
        self.total = total
        self.note: str | None = None
        self.lock = threading.Lock()

    def update(
        self,
        n: float = 1,
        *,
        completed: float | None = None,
        total: float | None = None,
        note: str | None = None,
        unit: str | None = None,
    ) -> None:
        with self.lock:
            self.done = float(completed) if completed is not None else self.done + float(n)
            if total is not None:
                self.total = float(total)
            if note is not None:
                self.note = note


class LogSink:
    """Progress as log lines (the default when no display is installed)."""

    @contextmanager
    def task(self, name: str, total: float | None, unit: str) -> Iterator[Advance]:
        c = _Counter(total)
        t0 = time.perf_counter()
        last = [t0]
        what = [unit]

        def advance(
            n: float = 1,
            *,
            completed: float | None = None,
            total: float | None = None,
            note: str | None = None,
            unit: str | None = None,
        ) -> None:
            c.update(n, completed=completed, total=total, note=note)
            if unit is not None:
                what[0] = unit
            now = time.perf_counter()
            if now - last[0] >= _LOG_EVERY_S:
                last[0] = now
                logger.info("%s: %s", name, _status(c, what[0], now - t0))

        yield advance
        took = time.perf_counter() - t0
        if took >= 1.0:  # quick steps (each EM fit of a model search) stay out of the log
            logger.info("%s done in %.1fs", name, took)


def _status(c: _Counter, unit: str, elapsed: float) -> str:
    with c.lock:
        done, total, note = c.done, c.total, c.note
    text = f"{done:,.0f}" + (f"/{total:,.0f}" if total else "") + f" {unit}"
    if total and done > 0:
        eta = (total - done) * elapsed / done
        text += f", ETA {eta:.0f}s"
    return text + (f" ({note})" if note else "")


_LOG_SINK = LogSink()


@contextmanager
def progress(name: str, total: float | None = None, *, unit: str = "items") -> Iterator[Advance]:
    """A long step; yields ``advance`` (see :class:`Advance`).

    Parameters
    ----------
    name : str
        What runs, e.g. ``"featurize (minilm)"``.
    total : float, optional
        Units of work, for a bar and an ETA; ``None`` shows a spinner and the time.
    unit : str
        What a unit is ("texts", "folds", "calls").
    """
    parent = _CURRENT.get()
    if parent is not None and not parent.sized and not parent.lent and total is not None:
        # a step without a size ("featurize") running one with a size (the encoder's
        # batches): show the sub-step's bar in the step's own row instead of a new row
        parent.lent = True
        parent.advance(0, completed=0, total=total, note=name, unit=unit)
        try:
            yield parent.advance
        finally:
            parent.lent = False
        return
    sink = _SINK.get() or _LOG_SINK
    with sink.task(name, total, unit) as advance:
        token = _CURRENT.set(_Open(advance, total is not None))
        try:
            yield advance
        finally:
            _CURRENT.reset(token)


@contextmanager
def progress_to(sink: ProgressSink | None) -> Iterator[None]:
    """Send the progress of everything run inside to ``sink`` (``None``: log lines)."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


class NullSink:
    """Progress nowhere (``--quiet``, or ``progress=False`` in the scale API)."""

    @contextmanager
    def task(self, name: str, total: float | None, unit: str) -> Iterator[Advance]:
        def advance(
            n: float = 1,
            *,
            completed: float | None = None,
            total: float | None = None,
            note: str | None = None,
            unit: str | None = None,
        ) -> None:
            return None

        yield advance


# --------------------------------------------------------------------------- rich display
def _columns() -> list[Any]:
    from rich.progress import (
        BarColumn,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Count(ProgressColumn):  # type: ignore[misc]
        """``done/total unit`` for steps with a known size; blank for the others."""

        def render(self, task: Task) -> Text:
            if not task.fields.get("counted"):
                return Text("")
            total = f"/{task.total:,.0f}" if task.total is not None else ""
            return Text(f"{task.completed:,.0f}{total} {task.fields.get('unit', '')}")

    class Eta(ProgressColumn):  # type: ignore[misc]
        """``ETA 0:00:12`` while a sized step runs; nothing otherwise."""

        def __init__(self) -> None:
            super().__init__()
            self._inner = TimeRemainingColumn()

        def render(self, task: Task) -> Text:
            if not task.fields.get("counted") or task.finished:
                return Text("")
            return Text("ETA ") + self._inner.render(task)

    return [
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=28),
        TaskProgressColumn(),
        Count(),
        TimeElapsedColumn(),
        Eta(),
        TextColumn("[dim]{task.fields[note]}"),
    ]


class RichSink:
    """Progress drawn as rich bars with counts, elapsed time and ETA (one display).

    The display starts with the first step and stops when the last open step ends, so
    what is printed after a step appears below its finished bar.

    Parameters
    ----------
    console : rich Console, optional
        Default: a console on stderr (stdout stays clean for pipes).
    """

    def __init__(self, console: Any = None) -> None:
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        self.console = console
        self._bar: Any = None
        self._open = 0
        self._lock = threading.Lock()

    def _display(self) -> Any:
        if self._bar is None:
            from rich.progress import Progress

            self._bar = Progress(
                *_columns(), console=self.console, transient=False, refresh_per_second=8
            )
            self._bar.start()
        return self._bar

    @contextmanager
    def task(self, name: str, total: float | None, unit: str) -> Iterator[Advance]:
        with self._lock:
            bar = self._display()
            self._open += 1
            tid = bar.add_task(name, total=total, unit=unit, note="", counted=total is not None)
        t0 = time.perf_counter()

        def advance(
            n: float = 1,
            *,
            completed: float | None = None,
            total: float | None = None,
            note: str | None = None,
            unit: str | None = None,
        ) -> None:
            kw: dict[str, Any] = {}
            if completed is not None:
                kw["completed"] = completed
            else:
                kw["advance"] = n
            if total is not None:
                kw["total"] = total
                kw["counted"] = True
            if note is not None:
                kw["note"] = note
            if unit is not None:
                kw["unit"] = unit
            bar.update(tid, **kw)

        try:
            yield advance
        finally:
            with self._lock:
                task = next(t for t in bar.tasks if t.id == tid)
                if task.total is None:
                    bar.update(tid, total=1, completed=1)
                else:
                    bar.update(tid, completed=task.total)
                bar.update(tid, note=f"{time.perf_counter() - t0:.1f}s")
                self._open -= 1
                if self._open == 0:
                    bar.stop()
                    self._bar = None


def sink_for(enabled: bool | None) -> ProgressSink | None:
    """The sink an API function's ``progress=`` asks for.

    ``None``: whatever the caller installed (the CLI's display, else log lines);
    ``True``: rich bars on stderr; ``False``: nothing.
    """
    if enabled is None:
        return _SINK.get()
    return RichSink() if enabled else NullSink()
