"""Per-stage progress with ETA, checkpoints in the run's staging area, and resumption.

A long run is a sequence of named stages. :class:`StageRunner` runs each stage, saves
its result (arrays as ``.npy``, the rest as JSON) under ``<checkpoints>/<stage>/`` with a
``done.json`` marker written last, and with ``resume=True`` loads the results of
finished stages instead of running them again. The checkpoint folder also stores a
fingerprint of the run's input and options; resuming with different ones is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError
from ..io import to_jsonable

__all__ = ["Progress", "StageRunner", "checkpoint_dir_for", "fingerprint"]

logger = logging.getLogger(__name__)

StageResult = dict[str, Any]


def checkpoint_dir_for(out: str | Path) -> Path:
    """The persistent checkpoint folder of run ``out``: ``<parent>/.<name>.checkpoints``.

    It lives next to ``out`` (like :class:`truelabel.io.RunDir`'s staging folder) so a
    crash keeps it, and is removed once the run is published.
    """
    p = Path(out)
    return p.parent / f".{p.name}.checkpoints"


def fingerprint(obj: Any) -> str:
    """A short SHA-256 of a JSON-able description of a run's input and options."""
    blob = json.dumps(to_jsonable(obj), sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


class Progress:
    """Per-stage progress bar with ETA on a terminal; log lines otherwise.

    Parameters
    ----------
    enabled : bool, optional
        Force on/off; default: on when stderr is a terminal.
    """

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else bool(enabled)
        self._progress: Any = None

    @contextmanager
    def task(self, name: str, total: float | None) -> Iterator[Callable[[float], None]]:
        """Context yielding ``advance(n)``; shows a bar with ETA when enabled."""
        t0 = time.perf_counter()
        done = [0.0]
        last_log = [t0]
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            with RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            ) as bar:
                tid = bar.add_task(name, total=total)

                def advance_bar(n: float) -> None:
                    bar.advance(tid, n)

                yield advance_bar
        else:

            def advance_log(n: float) -> None:
                done[0] += n
                now = time.perf_counter()
                if now - last_log[0] >= 10.0 and total:
                    rate = done[0] / max(now - t0, 1e-9)
                    eta = (total - done[0]) / rate if rate > 0 else float("nan")
                    logger.info("%s: %.0f/%.0f, ETA %.0fs", name, done[0], total, eta)
                    last_log[0] = now

            yield advance_log
        logger.info("stage %s finished in %.1fs", name, time.perf_counter() - t0)


class StageRunner:
    """Run named stages with checkpoints and optional resumption.

    Parameters
    ----------
    checkpoint_dir : path
        Where stage results are saved (see :func:`checkpoint_dir_for`).
    fingerprint : str
        Identifies the run's input and options (see :func:`fingerprint`).
    resume : bool
        Load finished stages from ``checkpoint_dir`` instead of running them again.
        Without it, old checkpoints are discarded.
    progress : Progress, optional
        Progress display; default decides by whether stderr is a terminal.

    Attributes
    ----------
    timings : dict of str to float
        Seconds spent per stage in this process (0 for a stage loaded from a checkpoint).
    resumed : list of str
        Stages loaded from checkpoints.
    """

    def __init__(
        self,
        checkpoint_dir: str | Path,
        *,
        fingerprint: str,
        resume: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.dir = Path(checkpoint_dir)
        self.fingerprint = fingerprint
        self.resume = resume
        self.progress = progress if progress is not None else Progress()
        self.timings: dict[str, float] = {}
        self.resumed: list[str] = []
        meta = self.dir / "fingerprint.json"
        if self.dir.exists():
            old = json.loads(meta.read_text("utf-8")).get("fingerprint") if meta.exists() else None
            if resume and old is not None and old != fingerprint:
                raise InputError(
                    f"cannot resume from {self.dir}: it was written for a different input or "
                    "different options; run again without --resume to start over."
                )
            if not resume:
                shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")

    def stage_dir(self, name: str) -> Path:
        """Folder of stage ``name`` (stages may also write large files here themselves)."""
        p = self.dir / name
        p.mkdir(parents=True, exist_ok=True)
        return p

    def is_done(self, name: str) -> bool:
        """Whether stage ``name`` has a finished checkpoint."""
        return (self.dir / name / "done.json").exists()

    def run(
        self,
        name: str,
        fn: Callable[[Callable[[float], None]], StageResult],
        *,
        total: float | None = None,
    ) -> StageResult:
        """Run stage ``name`` (or load it when resuming) and checkpoint its result.

        Parameters
        ----------
        name : str
            Stage name (a folder name).
        fn : callable(advance) -> dict
            Does the work; calls ``advance(n)`` to report progress; returns a dict of
            arrays (saved as ``.npy``, loaded back memory-mapped) and JSON-able values.
        total : float, optional
            Units of work, for the ETA.

        Returns
        -------
        dict
        """
        if self.resume and self.is_done(name):
            logger.info("stage %s: loaded from checkpoint", name)
            self.resumed.append(name)
            self.timings[name] = 0.0
            return self._load(name)
        t0 = time.perf_counter()
        with self.progress.task(name, total) as advance:
            result = fn(advance)
        self._save(name, result)
        self.timings[name] = time.perf_counter() - t0
        return result

    def _save(self, name: str, result: StageResult) -> None:
        d = self.stage_dir(name)
        scalars: dict[str, Any] = {}
        arrays: list[str] = []
        for key, value in result.items():
            if isinstance(value, np.ndarray) and value.dtype != object:
                np.save(d / f"{key}.npy", value, allow_pickle=False)
                arrays.append(key)
            else:
                scalars[key] = value
        tmp = d / "done.json.tmp"
        tmp.write_text(
            json.dumps(to_jsonable({"values": scalars, "arrays": arrays})), encoding="utf-8"
        )
        os.replace(tmp, d / "done.json")

    def _load(self, name: str) -> StageResult:
        d = self.dir / name
        meta = json.loads((d / "done.json").read_text("utf-8"))
        out: StageResult = dict(meta["values"])
        for key in meta["arrays"]:
            out[key] = np.load(d / f"{key}.npy", mmap_mode="r")
        return out

    def cleanup(self) -> None:
        """Delete the checkpoints (after the run has been published)."""
        shutil.rmtree(self.dir, ignore_errors=True)
