"""Engines: the same per-chunk function run in sequence (``local``) or on Dask (``dask``).

Every scaled computation here is a *map* over row chunks followed by either a *sum*
(counts, sums, EM sufficient statistics) or a *concatenation* (per-item flags and
scores). :class:`ChunkedArrays` describes the chunks; an engine runs the map.
Chunks backed by ``.npy`` files are opened by whoever processes them (a memory map,
nothing is pickled); in-memory arrays are sliced (and scattered once on Dask).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError
from .._optional import import_extra

__all__ = [
    "ENGINES",
    "ChunkedArrays",
    "DaskEngine",
    "Engine",
    "LocalEngine",
    "dask_client",
    "make_engine",
    "tree_sum",
]

logger = logging.getLogger(__name__)

ENGINES = ("local", "dask")

ArrayLike = np.ndarray | str | Path


def _open(a: ArrayLike) -> np.ndarray:
    if isinstance(a, str | Path):
        return np.load(a, mmap_mode="r")
    return a


@dataclass(frozen=True)
class ChunkedArrays:
    """Row-aligned arrays cut into chunks of ``chunk_rows`` rows.

    Parameters
    ----------
    arrays : dict of str to ndarray or path to ``.npy``
        Arrays with the same first dimension N (a path is memory-mapped on use).
    chunk_rows : int
        Rows per chunk (the last one may be shorter).
    splits : tuple of int, optional
        Explicit chunk boundaries ``(0, s1, ..., N)`` instead of equal chunks (e.g. votes
        cut where the item changes); ``chunk_rows`` is then only informative.
    """

    arrays: dict[str, ArrayLike]
    chunk_rows: int
    splits: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not self.arrays:
            raise InputError("ChunkedArrays needs at least one array.")
        if self.chunk_rows < 1:
            raise InputError(f"chunk_rows must be at least 1; got {self.chunk_rows}.")
        ns = {k: _open(v).shape[0] for k, v in self.arrays.items()}
        if len(set(ns.values())) != 1:
            raise InputError(f"arrays must have the same number of rows; got {ns}.")

    @property
    def n_rows(self) -> int:
        return int(_open(next(iter(self.arrays.values()))).shape[0])

    @property
    def n_chunks(self) -> int:
        if self.splits is not None:
            return len(self.splits) - 1
        return max(1, -(-self.n_rows // self.chunk_rows))

    def bounds(self, i: int) -> tuple[int, int]:
        if self.splits is not None:
            return int(self.splits[i]), int(self.splits[i + 1])
        lo = i * self.chunk_rows
        return lo, min(lo + self.chunk_rows, self.n_rows)

    def load(self, i: int) -> dict[str, np.ndarray]:
        """Chunk ``i`` as a dict of arrays (views of memory maps where possible)."""
        lo, hi = self.bounds(i)
        return {k: _open(v)[lo:hi] for k, v in self.arrays.items()}

    @property
    def on_disk(self) -> bool:
        """Whether every array is a ``.npy`` path (chunks can be loaded by any worker)."""
        return all(isinstance(v, str | Path) for v in self.arrays.values())


def _worker_cache() -> dict[Any, Any]:
    """A dict living on the current Dask worker (or in this process outside Dask)."""
    import sys

    if "distributed" not in sys.modules:  # not on a worker; don't pay for importing Dask
        return _LOCAL_CACHE
    from distributed import get_worker

    try:
        w = get_worker()
    except ValueError:
        return _LOCAL_CACHE
    cache = getattr(w, "_truelabel_cache", None)
    if cache is None:
        cache = {}
        w._truelabel_cache = cache  # type: ignore[attr-defined]
    return cache


_LOCAL_CACHE: dict[Any, Any] = {}


def tree_sum(parts: Sequence[Any]) -> Any:
    """Sum a list of equally-shaped pytrees (arrays, tuples/dicts of arrays, numbers)."""
    if not parts:
        raise InputError("nothing to sum: no chunks.")
    first = parts[0]
    if isinstance(first, dict):
        return {k: tree_sum([p[k] for p in parts]) for k in first}
    if isinstance(first, tuple | list):
        return type(first)(tree_sum([p[i] for p in parts]) for i in range(len(first)))
    total = np.array(
        first, dtype=np.float64 if np.asarray(first).dtype.kind == "f" else None, copy=True
    )
    for p in parts[1:]:
        total = total + p
    return total


ChunkFn = Callable[..., Any]


class Engine:
    """Runs ``fn(chunk, lo, hi, *args)`` over the chunks of a :class:`ChunkedArrays`."""

    name = "base"

    def map(
        self,
        fn: ChunkFn,
        data: ChunkedArrays,
        *args: Any,
        advance: Callable[[float], None] | None = None,
    ) -> list[Any]:
        """Results of every chunk, in chunk order."""
        raise NotImplementedError

    def map_reduce(
        self,
        fn: ChunkFn,
        combine: Callable[[Any, Any], Any],
        data: ChunkedArrays,
        *args: Any,
        advance: Callable[[float], None] | None = None,
    ) -> Any:
        """Fold the chunk results with an associative ``combine(a, b)``."""
        parts = self.map(fn, data, *args, advance=advance)
        total = parts[0]
        for p in parts[1:]:
            total = combine(total, p)
        return total

    def map_sum(
        self,
        fn: ChunkFn,
        data: ChunkedArrays,
        *args: Any,
        advance: Callable[[float], None] | None = None,
    ) -> Any:
        """Sum of the chunk results (a map-reduce); float sums are accumulated in float64."""
        return tree_sum([self.map_reduce(fn, _add, data, *args, advance=advance)])

    def forget(self, data: ChunkedArrays) -> None:
        """Release anything cached for ``data`` (scattered chunks on Dask)."""

    def close(self) -> None:
        """Release resources (a Dask cluster this engine started)."""


class LocalEngine(Engine):
    """One chunk after another in this process: memory is bounded by one chunk."""

    name = "local"

    def map(
        self,
        fn: ChunkFn,
        data: ChunkedArrays,
        *args: Any,
        advance: Callable[[float], None] | None = None,
    ) -> list[Any]:
        out = []
        for i in range(data.n_chunks):
            lo, hi = data.bounds(i)
            out.append(fn(data.load(i), lo, hi, *args))
            if advance is not None:
                advance(hi - lo)
        return out

    def map_reduce(
        self,
        fn: ChunkFn,
        combine: Callable[[Any, Any], Any],
        data: ChunkedArrays,
        *args: Any,
        advance: Callable[[float], None] | None = None,
    ) -> Any:
        total: Any = None
        for i in range(data.n_chunks):
            lo, hi = data.bounds(i)
            part = fn(data.load(i), lo, hi, *args)
            total = part if total is None else combine(total, part)
            if advance is not None:
                advance(hi - lo)
        return total


def _run_on_chunk(fn: ChunkFn, data: ChunkedArrays, i: int, *args: Any) -> Any:
    lo, hi = data.bounds(i)
    return fn(data.load(i), lo, hi, *args)


def _run_on_block(fn: ChunkFn, block: dict[str, np.ndarray], lo: int, hi: int, *args: Any) -> Any:
    return fn(block, lo, hi, *args)


def _add(a: Any, b: Any) -> Any:
    return tree_sum([a, b])


def _fold(combine: Callable[[Any, Any], Any], *parts: Any) -> Any:
    total = parts[0]
    for p in parts[1:]:
        total = combine(total, p)
    return total


class DaskEngine(Engine):
    """Chunks as Dask tasks on a ``distributed`` cluster; sums as a tree reduction.

    Parameters
    ----------
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a running scheduler; ``None`` starts a ``LocalCluster``.
    n_workers : int, optional
        Workers of the local cluster (default: one per core, at most 4).
    processes : bool
        Local cluster with worker processes (True) or threads in this process (False,
        cheap to start; what the tests use).
    client : distributed.Client, optional
        Use this client instead of creating one (not closed by :meth:`close`).
    split_every : int
        Fan-in of the tree reduction.
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
        processes: bool = True,
        memory_limit: str | int | None = "auto",
        client: Any = None,
        split_every: int = 8,
    ) -> None:
        self.split_every = split_every
        self._own: list[Any] = []
        self._scattered: dict[int, tuple[ChunkedArrays, list[Any]]] = {}
        if client is not None:
            self.client = client
            return
        distributed = import_extra("distributed")  # absent: one line naming truelabel[dask]
        Client, LocalCluster = distributed.Client, distributed.LocalCluster
        if scheduler is not None:
            if not str(scheduler).startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
                raise InputError(
                    f"--scheduler {scheduler!r} is not a scheduler address; pass one like "
                    "tcp://10.0.0.5:8786, or leave it out to start a local cluster."
                )
            try:
                self.client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise InputError(
                    f"cannot reach the Dask scheduler at {scheduler}: {exc}; start it with "
                    "`dask scheduler` or leave --scheduler out for a local cluster."
                ) from exc
            self._own.append(self.client)
            return
        import os

        workers = n_workers if n_workers is not None else min(os.cpu_count() or 1, 4)
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            memory_limit=memory_limit,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        self.client = Client(cluster)
        self._own.extend([self.client, cluster])

    @property
    def n_workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def _parts(self, fn: ChunkFn, data: ChunkedArrays, args: tuple[Any, ...]) -> list[Any]:
        from dask import delayed

        if data.on_disk:
            return [
                delayed(_run_on_chunk, pure=False)(fn, data, i, *args) for i in range(data.n_chunks)
            ]
        cached = self._scattered.get(id(data))
        if cached is None or cached[0] is not data:
            blocks = [data.load(i) for i in range(data.n_chunks)]
            # kept (with `data`, so its id is not reused) for the engine's lifetime: an EM
            # loop maps over the same chunks many times and ships them only once.
            # hash=False: content-hashed keys would be shared with an identical dataset
            # scattered earlier, and releasing that one (forget) could drop these blocks
            # on the scheduler while they are still needed ("lost dependencies").
            cached = (data, self.client.scatter(blocks, hash=False))
            self._scattered[id(data)] = cached
        futures = cached[1]
        return [
            delayed(_run_on_block, pure=False)(fn, f, *data.bounds(i), *args)
            for i, f in enumerate(futures)
        ]

    def map(
        self,
        fn: ChunkFn,
        data: ChunkedArrays,
        *args: Any,
        advance: Callable[[float], None] | None = None,
    ) -> list[Any]:
        parts = self._parts(fn, data, args)
        futures = self.client.compute(parts)
        return self._gather(futures, data, advance)

    def map_reduce(
        self,
        fn: ChunkFn,
        combine: Callable[[Any, Any], Any],
        data: ChunkedArrays,
        *args: Any,
        advance: Callable[[float], None] | None = None,
    ) -> Any:
        from dask import delayed

        level = self._parts(fn, data, args)
        while len(level) > 1:
            level = [
                delayed(_fold, pure=False)(combine, *level[i : i + self.split_every])
                for i in range(0, len(level), self.split_every)
            ]
        result = self.client.compute(level[0]).result()
        if advance is not None:
            advance(data.n_rows)
        return result

    def _gather(
        self, futures: list[Any], data: ChunkedArrays, advance: Callable[[float], None] | None
    ) -> list[Any]:
        if advance is not None:
            from distributed import as_completed

            index = {f.key: i for i, f in enumerate(futures)}
            for f in as_completed(futures):
                lo, hi = data.bounds(index[f.key])
                advance(hi - lo)
        return list(self.client.gather(futures))

    def forget(self, data: ChunkedArrays) -> None:
        """Drop the scattered chunks of ``data`` from the cluster."""
        self._scattered.pop(id(data), None)

    def close(self) -> None:
        self._scattered = {}
        for obj in reversed(self._own):
            try:
                obj.close()
            except Exception:  # noqa: BLE001 - best effort on shutdown
                logger.debug("closing %r failed", obj, exc_info=True)
        self._own = []


def make_engine(
    engine: str | Engine = "local", *, scheduler: str | None = None, **kwargs: Any
) -> Engine:
    """Build an engine from its name (``local`` or ``dask``); an Engine passes through."""
    if isinstance(engine, Engine):
        return engine
    if engine == "local":
        if scheduler is not None:
            raise InputError("--scheduler only applies to --engine dask.")
        return LocalEngine()
    if engine == "dask":
        return DaskEngine(scheduler, **kwargs)
    raise InputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")


@contextmanager
def dask_client(engine: Engine) -> Iterator[Any]:
    """The engine's Dask client (``None`` for the local engine)."""
    yield getattr(engine, "client", None)


def iter_chunks(data: ChunkedArrays) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
    """``(lo, hi, chunk)`` for every chunk, in order."""
    for i in range(data.n_chunks):
        lo, hi = data.bounds(i)
        yield lo, hi, data.load(i)
