"""Reading inputs in bounded chunks: Parquet row groups, CSV/JSONL blocks, array slices."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["count_rows", "iter_array_chunks", "iter_table_chunks", "table_columns"]


def _fmt(path: Path) -> str:
    from ..io._readers import _format_of

    return _format_of(path)


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder.")
    return p


def _is_parquet(p: Path) -> bool:
    return p.is_dir() or _fmt(p) == "parquet"


def table_columns(path: str | Path) -> list[str]:
    """Column names of a table file without reading its rows (Parquet: from the schema)."""
    p = _check_path(path)
    if _is_parquet(p):
        import pyarrow.dataset as ds

        from ..io._readers import reading_errors

        with reading_errors(p, "parquet"):
            return list(ds.dataset(p, format="parquet").schema.names)
    first = next(iter_table_chunks(p, chunk_rows=8))
    return list(first.columns)


def count_rows(path: str | Path) -> int:
    """Number of rows of a table file (Parquet: from the footers, without reading data)."""
    p = _check_path(path)
    if _is_parquet(p):
        import pyarrow.dataset as ds

        from ..io._readers import reading_errors

        with reading_errors(p, "parquet"):
            return int(ds.dataset(p, format="parquet").count_rows())
    return sum(len(c) for c in iter_table_chunks(p, chunk_rows=200_000))


def _check_columns(path: Path, columns: Sequence[str] | None, have: Sequence[str]) -> None:
    if columns is None:
        return
    missing = [c for c in columns if c not in have]
    if missing:
        raise InputError(
            f"{path}: column(s) {', '.join(map(repr, missing))} not found; the file has "
            f"{', '.join(map(repr, have))}."
        )


def iter_table_chunks(
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    chunk_rows: int = 100_000,
) -> Iterator[pd.DataFrame]:
    """Yield a table file as DataFrames of at most ``chunk_rows`` rows, in file order.

    Parquet files (or a folder of Parquet parts) are scanned with ``pyarrow.dataset``, so
    only the requested columns and one batch of row groups are in memory at a time; CSV,
    TSV and JSONL are read in blocks by pandas.

    Parameters
    ----------
    path : path
        ``.parquet`` file or folder of parts, ``.csv``, ``.tsv``, ``.jsonl`` (optionally .gz).
    columns : sequence of str, optional
        Columns to read (all when omitted).
    chunk_rows : int
        Upper bound on rows per chunk.

    Yields
    ------
    DataFrame
        Consecutive row blocks; the index continues across chunks (global row numbers).
    """
    p = _check_path(path)
    if chunk_rows < 1:
        raise InputError(f"chunk_rows must be at least 1; got {chunk_rows}.")
    from ..io._readers import reading_errors

    with reading_errors(p, "parquet" if _is_parquet(p) else _fmt(p)):
        yield from _iter_chunks(p, columns, chunk_rows)


def _iter_chunks(p: Path, columns: Sequence[str] | None, chunk_rows: int) -> Iterator[pd.DataFrame]:
    start = 0
    if _is_parquet(p):
        import pyarrow.dataset as ds

        dset = ds.dataset(p, format="parquet")
        _check_columns(p, columns, dset.schema.names)
        scanner = dset.scanner(
            columns=list(columns) if columns is not None else None,
            batch_size=chunk_rows,
            use_threads=False,
        )
        import pyarrow as pa

        pending: list[Any] = []
        n_pending = 0
        for batch in scanner.to_batches():
            if batch.num_rows == 0:
                continue
            pending.append(batch)
            n_pending += batch.num_rows
            if n_pending < chunk_rows:
                continue
            table = pa.Table.from_batches(pending)
            n_full = (table.num_rows // chunk_rows) * chunk_rows
            for lo in range(0, n_full, chunk_rows):
                part = table.slice(lo, chunk_rows).to_pandas()
                part.index = pd.RangeIndex(start, start + len(part))
                start += len(part)
                yield part
            rest = table.slice(n_full)
            pending = rest.to_batches() if rest.num_rows else []
            n_pending = rest.num_rows
        if n_pending:
            df = pa.Table.from_batches(pending).to_pandas()
            df.index = pd.RangeIndex(start, start + len(df))
            yield df
        return
    fmt = _fmt(p)
    reader: Any
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        reader = pd.read_csv(
            p,
            sep=sep,
            chunksize=chunk_rows,
            usecols=None,
            encoding="utf-8",
            quoting=3 if fmt == "tsv" else 0,
        )
    elif fmt == "jsonl":
        reader = pd.read_json(p, lines=True, chunksize=chunk_rows, dtype=False, encoding="utf-8")
    else:
        raise InputError(
            f"{p}: {fmt} files cannot be read in chunks; convert to Parquet or JSONL "
            "(e.g. pandas.read_json(path).to_parquet('data.parquet'))."
        )
    with reader:
        for df in reader:
            _check_columns(p, columns, list(df.columns))
            if columns is not None:
                df = df[list(columns)]
            df.index = pd.RangeIndex(start, start + len(df))
            start += len(df)
            yield df


def iter_array_chunks(arr: np.ndarray, chunk_rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, arr[start:start+chunk_rows])`` views; memory maps stay maps.

    Parameters
    ----------
    arr : ndarray of shape (N, ...)
    chunk_rows : int

    Yields
    ------
    start : int
    block : ndarray of shape (<= chunk_rows, ...)
    """
    n = arr.shape[0]
    step = max(int(chunk_rows), 1)
    for lo in range(0, n, step):
        yield lo, arr[lo : lo + step]
