"""A memory-mapped feature store: an ``.npy`` file written chunk by chunk."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError

__all__ = ["FeatureStore"]


class FeatureStore:
    """Features of N items in one ``.npy`` file, written and read through a memory map.

    The file is created at full size up front; chunks are written at their row offsets
    and a small ``<name>.done.json`` sidecar records which row ranges are complete, so an
    interrupted featurization resumes where it stopped.

    Parameters
    ----------
    path : path
        The ``.npy`` file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._mm: Any = None

    # ----------------------------------------------------------------- creation
    @classmethod
    def create(
        cls, path: str | Path, n_rows: int, dim: int, *, dtype: Any = np.float32
    ) -> FeatureStore:
        """Allocate an ``(n_rows, dim)`` store on disk (sparse file; no RAM is used).

        An existing store of the same shape and dtype is reopened, keeping its finished
        chunks (for resumption); one of another shape is replaced.
        """
        if n_rows < 0 or dim < 1:
            raise InputError(
                f"a feature store needs n_rows >= 0 and dim >= 1; got {n_rows}, {dim}."
            )
        store = cls(path)
        store.path.parent.mkdir(parents=True, exist_ok=True)
        if store.path.exists():
            try:
                mm = np.load(store.path, mmap_mode="r+")
                if mm.shape == (n_rows, dim) and mm.dtype == np.dtype(dtype):
                    store._mm = mm
                    return store
            except (ValueError, OSError):
                pass
            store.path.unlink()
            store._done_path.unlink(missing_ok=True)
        store._mm = np.lib.format.open_memmap(
            store.path, mode="w+", dtype=np.dtype(dtype), shape=(n_rows, dim)
        )
        store._write_done([])
        return store

    @classmethod
    def open(cls, path: str | Path) -> FeatureStore:
        """Open an existing store for reading."""
        store = cls(path)
        if not store.path.exists():
            raise InputError(f"{store.path}: no feature store here.")
        store._mm = np.load(store.path, mmap_mode="r")
        return store

    # ----------------------------------------------------------------- access
    @property
    def array(self) -> np.ndarray:
        """The memory-mapped ``(N, D)`` array."""
        if self._mm is None:
            raise RuntimeError("the feature store is not open")
        return self._mm

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.array.shape)  # type: ignore[return-value]

    def __len__(self) -> int:
        return int(self.array.shape[0])

    def write(self, start: int, block: np.ndarray) -> None:
        """Write rows ``start : start + len(block)`` and mark them done."""
        arr: Any = self.array
        block = np.asarray(block)
        if block.ndim != 2 or block.shape[1] != arr.shape[1]:
            raise InputError(
                f"feature block has shape {block.shape}; the store holds {arr.shape[1]} columns."
            )
        stop = start + block.shape[0]
        if start < 0 or stop > arr.shape[0]:
            raise InputError(f"rows {start}:{stop} are outside the store of {arr.shape[0]} rows.")
        arr[start:stop] = block
        arr.flush()
        done = self.done_ranges()
        done.append([int(start), int(stop)])
        self._write_done(done)

    # ----------------------------------------------------------------- bookkeeping
    @property
    def _done_path(self) -> Path:
        return self.path.with_name(self.path.name + ".done.json")

    def _write_done(self, ranges: list[list[int]]) -> None:
        ranges = sorted(ranges)
        merged: list[list[int]] = []
        for lo, hi in ranges:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        tmp = self._done_path.with_name(self._done_path.name + ".tmp")
        tmp.write_text(json.dumps(merged), encoding="utf-8")
        os.replace(tmp, self._done_path)

    def done_ranges(self) -> list[list[int]]:
        """Finished ``[start, stop)`` row ranges, merged and sorted."""
        if not self._done_path.exists():
            return []
        return [list(map(int, r)) for r in json.loads(self._done_path.read_text("utf-8"))]

    def is_done(self, start: int, stop: int) -> bool:
        """Whether rows ``start:stop`` are already written."""
        return any(lo <= start and stop <= hi for lo, hi in self.done_ranges())

    @property
    def complete(self) -> bool:
        """Whether every row has been written."""
        return self.is_done(0, len(self))
