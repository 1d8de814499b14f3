"""The run directory: every command writes its artifacts into one folder, atomically.

Files are written to a hidden sibling folder first; only when the command has
finished is that folder renamed to ``--out``. A crash leaves the previous state
(no folder, or the previous run) untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["RUN_MARKER", "RunDir", "check_out_dir", "is_run_dir", "to_jsonable", "write_atomic"]

RUN_MARKER = "run.json"


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` holds a previous truelabel run (it has ``run.json``)."""
    return (path / RUN_MARKER).is_file()


def check_out_dir(out: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse an ``--out`` that exists, is not empty and is not a previous run.

    A previous truelabel run or an empty folder is replaced; anything else needs
    ``overwrite=True``.
    """
    p = Path(out)
    if p.exists():
        if not p.is_dir():
            raise InputError(f"--out {p} is a file; pass a folder path.")
        if any(p.iterdir()) and not is_run_dir(p) and not overwrite:
            raise InputError(
                f"--out {p} exists and is not a truelabel run folder; choose another path "
                "or pass --overwrite to replace its contents."
            )
    return p


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy scalars/arrays and Paths inside ``obj`` to plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunDir:
    """Collects a command's artifacts and publishes them atomically.

    Use as a context manager::

        with RunDir(out, kind="audit") as run:
            run.write_parquet("issues.parquet", issues)
            run.write_json("summary.json", summary)
        # now `out` holds both files (or, after an exception, is as it was)

    Parameters
    ----------
    out : path
        The folder to publish.
    kind : str
        What wrote it (``audit``, ``aggregate`` …), recorded in ``run.json``.
    overwrite : bool
        Allow replacing a folder that is not a previous run.
    meta : dict, optional
        Extra fields for ``run.json`` (command options, versions).
    """

    def __init__(
        self,
        out: str | Path,
        *,
        kind: str,
        overwrite: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.out = check_out_dir(out, overwrite=overwrite)
        self.kind = kind
        self.meta = dict(meta or {})
        self._tmp: Path | None = None

    @property
    def path(self) -> Path:
        """The staging folder files are written into until publication."""
        if self._tmp is None:
            raise RuntimeError("RunDir is only writable inside its `with` block.")
        return self._tmp

    def __enter__(self) -> RunDir:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(dir=self.out.parent, prefix=f".{self.out.name}.tmp-"))
        self._started = time.time()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tmp = self._tmp
        self._tmp = None
        if tmp is None:
            return
        if exc_type is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        from .. import __version__

        marker = {
            "kind": self.kind,
            "truelabel_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **self.meta,
        }
        (tmp / RUN_MARKER).write_text(json.dumps(to_jsonable(marker), indent=2), encoding="utf-8")
        old: Path | None = None
        if self.out.exists():
            old = self.out.parent / f".{self.out.name}.old-{os.getpid()}-{int(time.time())}"
            os.replace(self.out, old)
        os.replace(tmp, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def file(self, name: str) -> Path:
        """Path of artifact ``name`` inside the staging folder (for writers that need a path)."""
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write_parquet(self, name: str, df: pd.DataFrame) -> Path:
        """Write a DataFrame as Parquet (index dropped)."""
        p = self.file(name)
        df.to_parquet(p, index=False)
        return p

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as indented JSON (NumPy types converted)."""
        p = self.file(name)
        p.write_text(json.dumps(to_jsonable(obj), indent=2, allow_nan=False), encoding="utf-8")
        return p

    def write_text(self, name: str, text: str) -> Path:
        """Write a UTF-8 text file (HTML report, YAML …)."""
        p = self.file(name)
        p.write_text(text, encoding="utf-8")
        return p

    def write_npy(self, name: str, arr: np.ndarray) -> Path:
        """Write an array as ``.npy``."""
        p = self.file(name)
        np.save(p, arr, allow_pickle=False)
        return p
