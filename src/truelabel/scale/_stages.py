"""Stages with checkpoints in the run's staging area, resumption, and progress with ETA.

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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError
from .._progress import progress as progress_step
from .._progress import progress_to, sink_for
from ..io import to_jsonable

__all__ = ["StageRunner", "checkpoint_dir_for", "fingerprint"]

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
    progress : bool, optional
        ``True``: rich bars on stderr; ``False``: none; default: the progress display the
        caller installed (the ``truelabel`` command's), else log lines
        (:mod:`truelabel._progress`).

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
        progress: bool | None = None,
    ) -> None:
        self.dir = Path(checkpoint_dir)
        self.fingerprint = fingerprint
        self.resume = resume
        self.sink = sink_for(progress)
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
        unit: str = "rows",
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
        unit : str
            What a unit is (rows, folds …), shown beside the count.

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
        with progress_to(self.sink), progress_step(name, total, unit=unit) as advance:
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
