"""Reading tables from CSV, TSV, JSONL, Parquet files or pandas DataFrames."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["SUPPORTED_SUFFIXES", "load_array", "read_table", "reading_errors"]

SUPPORTED_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst", ".xz"):
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in SUPPORTED_SUFFIXES:
        raise InputError(
            f"{path}: cannot tell the file format from its name; use one of "
            + ", ".join(sorted(SUPPORTED_SUFFIXES))
            + " (optionally .gz)."
        )
    return SUPPORTED_SUFFIXES[suffixes[-1]]


def read_table(
    data: str | Path | pd.DataFrame, *, columns: list[str] | None = None
) -> pd.DataFrame:
    """Read a table into a DataFrame with a clean 0-based RangeIndex.

    Parameters
    ----------
    data : path or DataFrame
        ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``, ``.json`` (records), ``.parquet``,
        optionally gzip-compressed; a DataFrame is copied shallowly.
    columns : list of str, optional
        Read only these columns (Parquet reads no others from disk).

    Returns
    -------
    DataFrame
        Row ``i`` is line/record ``i`` of the file (0-based, header excluded).

    Raises
    ------
    InputError
        Missing, unreadable, mis-encoded or empty file.
    """
    if isinstance(data, pd.DataFrame):
        df = data.reset_index(drop=True)
    else:
        path = Path(data)
        if not path.exists():
            raise InputError(f"{path}: no such file.")
        if path.is_dir():
            raise InputError(f"{path} is a directory; pass a data file.")
        fmt = _format_of(path)
        with reading_errors(path, fmt):
            if fmt == "csv":
                df = pd.read_csv(path, encoding="utf-8", keep_default_na=True)
            elif fmt == "tsv":
                df = pd.read_csv(path, sep="\t", encoding="utf-8", quoting=3)
            elif fmt == "jsonl":
                df = pd.read_json(path, lines=True, encoding="utf-8", dtype=False)
            elif fmt == "json":
                with open(path, encoding="utf-8") as fh:
                    obj: Any = json.load(fh)
                df = pd.DataFrame(obj if isinstance(obj, list) else list(obj.values()))
            else:
                df = pd.read_parquet(path, columns=columns)
    if len(df.columns) and columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise InputError(missing_columns_message(missing, df.columns, data))
    if len(df) == 0:
        name = "the DataFrame" if isinstance(data, pd.DataFrame) else str(data)
        raise InputError(f"{name} has no rows; nothing to do.")
    return df


@contextmanager
def reading_errors(path: Path, fmt: str) -> Iterator[None]:
    """Turn a reader's failure on a bad file into one ``InputError`` naming the file.

    Used around every table reader (whole-file and chunked), so a non-UTF-8, empty,
    truncated or malformed file gives the same message whichever command reads it.
    """
    try:
        yield
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not valid UTF-8 near byte {exc.start}; re-save the file as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`)."
        ) from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty.") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        if isinstance(exc, InputError):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read it as {fmt}: {first}") from None


def missing_columns_message(missing: list[str], existing: Any, data: Any) -> str:
    """A message naming missing columns and the ones that exist."""
    name = "the DataFrame" if isinstance(data, pd.DataFrame) else str(data)
    listed = ", ".join(repr(str(c)) for c in list(existing)[:30])
    more = "" if len(existing) <= 30 else f" (and {len(existing) - 30} more)"
    which = ", ".join(repr(m) for m in missing)
    noun = "column" if len(missing) == 1 else "columns"
    return f"{name} has no {noun} {which}; the columns are: {listed}{more}."


def load_array(path: str | Path, *, mmap: bool = True) -> np.ndarray:
    """Load a ``.npy`` array (memory-mapped by default, so 10M x 20 is not copied) or ``.npz``.

    For ``.npz`` the first array is returned.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file.")
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                keys = list(z.keys())
                if not keys:
                    raise InputError(f"{p}: the archive holds no arrays.")
                return np.asarray(z[keys[0]])
        return np.load(p, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"{p}: not a readable .npy/.npz array ({exc}).") from None
