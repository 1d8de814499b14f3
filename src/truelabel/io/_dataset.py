"""The Dataset: ids, inputs (text or vectors) and labels, validated once at load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._types import BoolArray, IntArray
from ._labels import canonical_labels, check_label_types
from ._readers import load_array, missing_columns_message, read_table

__all__ = ["Dataset", "encode_labels", "load_dataset", "missing_values"]


def _rows(idx: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    return shown + (f" … ({len(idx)} in all)" if len(idx) > limit else "")


@dataclass
class Dataset:
    """A validated table: one row per item.

    Attributes
    ----------
    frame : DataFrame
        The rows kept, in input order, with a 0-based RangeIndex.
    item_id : ndarray of shape (N,)
        Unique ids: the ``id_column`` values, else the 0-based row number of the input.
    text : ndarray of shape (N,), object, or None
        The text column as ``str``.
    vectors : ndarray of shape (N, D), float32, or None
        Precomputed features.
    labels : ndarray of shape (N,), int64, or None
        Given labels coded as indices into ``classes``.
    classes : list
        Sorted class values (original type: str or int).
    name : str
        Where the data came from (for messages and reports).
    dropped_rows : ndarray of int
        Input row numbers dropped by ``drop_missing``.
    empty_text : ndarray of shape (N,), bool, or None
        Rows whose text is missing, empty or whitespace (``allow_empty_text=True`` only).
    """

    frame: pd.DataFrame
    item_id: np.ndarray
    text: np.ndarray | None = None
    vectors: np.ndarray | None = None
    labels: IntArray | None = None
    classes: list[Any] = field(default_factory=list)
    name: str = "data"
    dropped_rows: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    empty_text: BoolArray | None = None

    def __len__(self) -> int:
        return len(self.item_id)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def class_names(self) -> list[str]:
        """Classes as strings (for column names such as ``p_<class>``)."""
        return [str(c) for c in self.classes]


def missing_values(col: pd.Series) -> np.ndarray:
    """Cells that hold no value: NaN/None, or text that is empty after stripping.

    Returns
    -------
    ndarray of shape (N,), bool
    """
    miss = col.isna().to_numpy().copy()
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        miss |= col.astype(str).str.strip().eq("").to_numpy() & ~miss
    return miss


def encode_labels(
    values: Any,
    classes: list[Any] | None = None,
    *,
    where: str = "labels",
    rows: np.ndarray | None = None,
) -> tuple[IntArray, list[Any]]:
    """Code label values as integers.

    Parameters
    ----------
    values : array-like of shape (N,)
        Class names or numbers; no missing values. Names and numbers may not be mixed
        (see :func:`truelabel.io.check_label_types`).
    classes : list, optional
        The class list to code against; by default the sorted unique values.
    where : str
        How the values are called in error messages.
    rows : ndarray of shape (N,), int, optional
        Input row numbers of the values, for error messages.

    Returns
    -------
    codes : ndarray of shape (N,), int64
    classes : list
        Sorted unique values (ints stay ints, everything else becomes str).
    """
    if classes is None:
        check_label_types(values, where=where, rows=rows)
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        arr = arr.astype(str)
    if classes is None:
        uniq = np.unique(arr)
        classes = [c.item() if hasattr(c, "item") else c for c in uniq]
        order = np.argsort(uniq, kind="stable")
        pos = np.clip(np.searchsorted(uniq, arr, sorter=order), 0, len(uniq) - 1)
        return order[pos].astype(np.int64), list(classes)
    # against a given class list: the one label-matching rule (1 == 1.0 == "1")
    vkeys, _ = canonical_labels(values)
    ckeys, _ = canonical_labels(list(classes))
    book = {k: i for i, k in enumerate(ckeys)}
    codes = pd.Series(vkeys, dtype=object).map(book)
    bad = codes.isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InputError(
            f"label {vkeys[rows[0]]!r} is not one of the {len(classes)} classes "
            f"{list(classes)[:20]} (rows {rows[:5].tolist()}); fix the rows or pass the full "
            "class list."
        )
    return codes.to_numpy(dtype=np.int64), list(classes)


def _parse_vectors(col: pd.Series, name: str) -> np.ndarray:
    first_len: int | None = None
    rows = []
    for i, v in enumerate(col.to_numpy()):
        if isinstance(v, str):
            v = [float(x) for x in v.strip("[]").replace(",", " ").split()]
        a = np.asarray(v, dtype=np.float32).ravel()
        if first_len is None:
            first_len = a.size
        elif a.size != first_len:
            raise InputError(
                f"vectors column {name!r}: row {i} has length {a.size} but row 0 has "
                f"{first_len}; every vector must have the same length."
            )
        rows.append(a)
    out = np.vstack(rows).astype(np.float32)
    if not np.all(np.isfinite(out)):
        row = int(np.argwhere(~np.isfinite(out))[0, 0])
        raise InputError(f"vectors column {name!r}: row {row} contains NaN or infinite values.")
    return out


def load_dataset(
    data: str | Path | pd.DataFrame,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
    vectors_column: str | None = None,
    vectors_file: str | Path | np.ndarray | None = None,
    drop_missing: bool = False,
    drop_option: str = "--drop-missing",
    require_labels: bool = True,
    allow_empty_text: bool = False,
) -> Dataset:
    """Read and validate a table of items.

    Parameters
    ----------
    data : path or DataFrame
        CSV, TSV, JSONL, Parquet, or a DataFrame.
    text_column, label_column, id_column, vectors_column : str, optional
        Column names. ``item_id`` is ``id_column`` when given, else the 0-based row number.
    vectors_file : path or ndarray, optional
        A ``.npy`` (or an array) of shape (N, D) aligned with the rows.
    drop_missing : bool
        Drop rows whose label is missing instead of refusing.
    drop_option : str
        The caller's option that leaves such rows out, named in the refusal (``audit``:
        ``--drop-missing``; ``train``: ``--unlabeled drop``).
    require_labels : bool
        Whether ``label_column`` must be given.
    allow_empty_text : bool
        Keep rows whose text is missing or blank (marked in ``Dataset.empty_text``) instead
        of refusing them; a text column that is empty on every row is still refused.

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        Missing file or column, empty table, missing labels, duplicate ids, empty texts,
        ragged vectors. Each message names the column and rows and says the fix.
    """
    name = "the DataFrame" if isinstance(data, pd.DataFrame) else str(data)
    df = read_table(data)
    wanted = [c for c in (text_column, label_column, id_column, vectors_column) if c]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise InputError(missing_columns_message(missing, df.columns, data))
    if require_labels and not label_column:
        raise InputError("a label column is required; pass --label-column NAME.")

    row_no = np.arange(len(df), dtype=np.int64)
    dropped = np.zeros(0, dtype=np.int64)
    if label_column:
        is_missing = missing_values(df[label_column])
        if is_missing.any():
            n_miss = int(is_missing.sum())
            if not drop_missing:
                fix = (
                    "fill them"
                    if n_miss == len(df)
                    else f"fill them or pass {drop_option} to leave those rows out"
                )
                raise InputError(
                    f"{name}: {n_miss} of {len(df)} rows have no value in label column "
                    f"{label_column!r} (rows {_rows(np.flatnonzero(is_missing))}); {fix}."
                )
            dropped = row_no[is_missing]
            keep = ~is_missing
            df = df.loc[keep].reset_index(drop=True)
            row_no = row_no[keep]
            if len(df) == 0:
                raise InputError(f"{name}: every row has a missing label; nothing to do.")

    if id_column:
        ids_s = df[id_column]
        if ids_s.isna().any():
            bad = np.flatnonzero(ids_s.isna().to_numpy())
            raise InputError(
                f"{name}: id column {id_column!r} is empty on rows {_rows(row_no[bad])}; "
                "every item needs an id."
            )
        item_id = ids_s.to_numpy()
        dup = ids_s.duplicated(keep=False).to_numpy()
        if dup.any():
            first = ids_s[dup].tolist()[0]
            same = np.flatnonzero(dup & (ids_s == first).to_numpy())
            raise InputError(
                f"{name}: id column {id_column!r} has {int(ids_s.duplicated().sum())} duplicate "
                f"values (e.g. {first!r} on rows {_rows(row_no[same])}); ids "
                "must be unique — fix them or drop --id-column to use row numbers."
            )
    else:
        item_id = row_no.copy()

    text = None
    empty_text = None
    if text_column:
        t = df[text_column]
        tt = t.astype(object).where(t.notna(), "").astype(str)
        empty = tt.str.strip().eq("").to_numpy()
        if empty.all():
            raise InputError(
                f"{name}: text column {text_column!r} is empty on every row; pass the column "
                "that holds the texts."
            )
        if empty.any() and not allow_empty_text:
            raise InputError(
                f"{name}: text column {text_column!r} is empty or whitespace on "
                f"{int(empty.sum())} rows (rows {_rows(row_no[empty])}); fill or remove them."
            )
        text = tt.to_numpy(dtype=object)
        if allow_empty_text:
            empty_text = empty

    vectors = None
    if vectors_column:
        vectors = _parse_vectors(df[vectors_column], vectors_column)
    elif vectors_file is not None:
        arr = vectors_file if isinstance(vectors_file, np.ndarray) else load_array(vectors_file)
        if arr.ndim != 2 or arr.shape[0] != len(row_no) + len(dropped):
            raise InputError(
                f"{vectors_file}: shape {arr.shape} does not match the {len(row_no) + len(dropped)} "
                "rows of the data; pass one vector per row, in row order."
            )
        vectors = np.asarray(arr[row_no], dtype=np.float32)

    labels = None
    classes: list[Any] = []
    if label_column:
        labels, classes = encode_labels(
            df[label_column].to_numpy(),
            where=f"{name}: label column {label_column!r}",
            rows=row_no,
        )

    return Dataset(
        frame=df,
        item_id=item_id,
        text=text,
        vectors=vectors,
        labels=labels,
        classes=classes,
        name=name,
        dropped_rows=dropped,
        empty_text=empty_text,
    )
