"""Reading tables from CSV, TSV, JSONL, Parquet files or pandas DataFrames.

CSV files are sniffed first (:func:`sniff_text_table`): the delimiter (``,``, ``;``, tab
or ``|``) and the encoding (UTF-8, UTF-8/16 with a byte-order mark, else Windows-1252)
are chosen from the first 64 kB, and a file that could be read two ways is refused with a
message naming the candidates instead of being guessed.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import logging
import lzma
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = [
    "SUPPORTED_SUFFIXES",
    "TextTableFormat",
    "load_array",
    "read_table",
    "reading_errors",
    "sniff_text_table",
    "text_table_format",
]

logger = logging.getLogger(__name__)

#: bytes read to decide the delimiter and the encoding of a CSV file
SNIFF_BYTES = 64 * 1024
#: delimiters tried after the comma, in this order
OTHER_DELIMITERS = (";", "\t", "|")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
#: control characters that never occur in a text table (tab, CR and LF excepted)
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\r", "\n"} | {"\x7f"}

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


@dataclass(frozen=True)
class TextTableFormat:
    """How to read a delimited text file: what :func:`sniff_text_table` found.

    Attributes
    ----------
    sep : str
        The delimiter.
    encoding : str
        A Python codec name (``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252``).
    notes : tuple of str
        What was not the default (a semicolon delimiter, a Windows-1252 file), to tell
        the user.
    """

    sep: str
    encoding: str
    notes: tuple[str, ...] = ()


def _head_bytes(path: Path, n: int = SNIFF_BYTES) -> bytes:
    suffix = path.suffix.lower()
    fh: Any
    if suffix == ".gz":
        fh = gzip.open(path, "rb")
    elif suffix == ".bz2":
        fh = bz2.open(path, "rb")
    elif suffix == ".xz":
        fh = lzma.open(path, "rb")
    else:
        fh = open(path, "rb")  # noqa: SIM115 - closed just below
    with fh:
        return bytes(fh.read(n))


def _encoding_of(path: Path, head: bytes, complete: bool) -> tuple[str, str | None]:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8", None
    except UnicodeDecodeError as exc:
        bad = exc.start
    try:
        text = head.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is not None and not (_CONTROL & set(text)):
        return "cp1252", (
            f"{path}: not valid UTF-8 (byte {bad}); read as Windows-1252 (Latin-1). If accents "
            "look wrong, re-save the file as UTF-8."
        )
    raise InputError(
        f"{path}: not valid UTF-8 near byte {bad}, and not a Windows-1252 text either; "
        "re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)."
    )


def _field_counts(text: str, sep: str, max_records: int = 200) -> list[int]:
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    counts = []
    try:
        for i, row in enumerate(reader):
            if i >= max_records:
                break
            if row:
                counts.append(len(row))
    except csv.Error:
        return []
    return counts


def sniff_text_table(path: str | Path, fmt: str) -> TextTableFormat:
    """The delimiter and encoding of a ``csv`` or ``tsv`` file, from its first 64 kB.

    Encoding: a byte-order mark decides; else UTF-8 when the bytes decode; else
    Windows-1252 when they decode to text (no control characters), with a note; else
    the file is refused. Delimiter (``csv`` only; ``tsv`` is always a tab): the comma
    when every record splits into the same number (> 1) of fields; otherwise the one of
    ``;``, tab and ``|`` that does so, with a note; when several do, the file is refused
    with the candidates named. When none does, the comma is kept (the reader's own error
    then says what is wrong).

    Parameters
    ----------
    path : path
    fmt : {"csv", "tsv"}

    Returns
    -------
    TextTableFormat

    Raises
    ------
    InputError
        Not text in UTF-8 or Windows-1252, or two delimiters fit equally well.
    """
    p = Path(path)
    head = _head_bytes(p)
    complete = len(head) < SNIFF_BYTES
    encoding, note = _encoding_of(p, head, complete)
    notes = [note] if note else []
    if fmt != "csv":
        return TextTableFormat("\t", encoding, tuple(notes))
    text = head.decode(encoding, errors="ignore")
    if not complete:  # drop a record cut by the 64 kB window
        text = text[: max(text.rfind("\n"), 0)]

    def fits(sep: str) -> bool:
        counts = _field_counts(text, sep)
        return bool(counts) and counts[0] > 1 and min(counts) == max(counts)

    if fits(","):
        return TextTableFormat(",", encoding, tuple(notes))
    found = [sep for sep in OTHER_DELIMITERS if fits(sep)]
    if len(found) > 1:
        names = " and ".join(f"{_NAMES[x]} ({x!r})" for x in found)
        raise InputError(
            f"{p}: cannot tell the delimiter: {names} both split every line into the same "
            "number of columns; re-save the file with commas (the CSV default)."
        )
    if found:
        notes.append(f"{p}: read as {_NAMES[found[0]]}-separated ({found[0]!r}), not comma.")
        return TextTableFormat(found[0], encoding, tuple(notes))
    return TextTableFormat(",", encoding, tuple(notes))


def text_table_format(path: Path, fmt: str) -> TextTableFormat:
    """:func:`sniff_text_table`, telling the user (a log warning) what it chose when that
    is not the default; every reader of CSV/TSV files calls it."""
    found = sniff_text_table(path, fmt)
    for note in found.notes:
        logger.warning(note)
    return found


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
        Read only these columns (Parquet reads no others from disk; CSV/TSV parse no
        others).

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
            wanted = None if columns is None else set(columns).__contains__
            if fmt == "csv":
                f = text_table_format(path, fmt)
                df = pd.read_csv(
                    path, sep=f.sep, encoding=f.encoding, keep_default_na=True, usecols=wanted
                )
            elif fmt == "tsv":
                f = text_table_format(path, fmt)
                df = pd.read_csv(path, sep="\t", encoding=f.encoding, quoting=3, usecols=wanted)
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
