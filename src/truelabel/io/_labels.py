"""The label-type rule shared by every command that reads class labels.

A label column holds either numbers (class codes such as ``0``/``1``) or names (``"spam"``),
never both: ``"1"`` and ``"spam"`` in one column are almost always two encodings of the
same classes (codes left over from an export next to names), and treating each distinct
value as its own class silently creates extra classes. ``audit``, ``train``, ``aggregate``,
``lf`` and ``estimate`` all call :func:`check_label_types` (through
:func:`truelabel.io.encode_labels` or the votes reader), so they accept and refuse the same
columns with the same message.

``1``, ``1.0`` and ``"1"`` are the same number: :func:`canonical_labels` maps each to the
key ``"1"`` so a numeric vote column and a string gold column agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["canonical_labels", "check_label_kinds", "check_label_types"]


def _rows(idx: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    return shown + (f" … ({len(idx)} in all)" if len(idx) > limit else "")


def canonical_labels(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Map raw label values to canonical string keys, and say which ones are numbers.

    Parameters
    ----------
    values : array-like or Series of shape (N,)
        Label values without missing entries.

    Returns
    -------
    keys : ndarray of shape (N,), object
        ``str`` keys; integral numbers in any spelling (``1``, ``1.0``, ``"1"``) give ``"1"``.
    is_number : ndarray of shape (N,), bool
        Whether each value is a number (a numeric dtype, or a string that parses as one).
    """
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    v = s.to_numpy()
    if v.dtype.kind in "iub":
        return v.astype(np.int64).astype(str).astype(object), np.ones(len(v), dtype=bool)
    if v.dtype.kind == "f":
        integral = np.isfinite(v) & (v == np.round(v))
        keys = np.where(integral, v.astype(np.int64, copy=False) if integral.all() else 0, 0)
        out = np.empty(len(v), dtype=object)
        out[integral] = keys[integral].astype(np.int64).astype(str)
        out[~integral] = v[~integral].astype(str)
        return out, np.ones(len(v), dtype=bool)
    st = s.astype(str).str.strip()
    num = pd.to_numeric(st, errors="coerce")
    isnum = num.notna().to_numpy()
    out = st.to_numpy(dtype=object).copy()
    nv = num.to_numpy(dtype=np.float64)
    integral = isnum & np.isfinite(nv) & (nv == np.round(np.nan_to_num(nv)))
    out[integral] = nv[integral].astype(np.int64).astype(str)
    return out, isnum


def check_label_kinds(
    keys: np.ndarray,
    is_number: np.ndarray,
    *,
    where: str,
    rows: Any = None,
) -> None:
    """Refuse labels mixing numbers and names (keys and flags from :func:`canonical_labels`).

    Parameters
    ----------
    keys : ndarray of shape (N,), object
    is_number : ndarray of shape (N,), bool
    where : str
        How the column is called in the message (``"votes.csv label column 'label'"``).
    rows : ndarray of shape (N,), int, optional
        The input row number of each value (named in the message when given).

    Raises
    ------
    InputError
        Naming the rows of the rarer kind and a few values of each kind.
    """
    isnum = np.asarray(is_number, dtype=bool)
    if isnum.size == 0 or isnum.all() or not isnum.any():
        return
    odd = isnum if isnum.sum() <= (~isnum).sum() else ~isnum
    nums = [str(k) for k in pd.unique(keys[isnum])[:5]]
    names = [str(k) for k in pd.unique(keys[~isnum])[:5]]
    odd_kind = "numbers" if odd is isnum else "names"
    where_odd = np.asarray(rows)[odd] if rows is not None else None
    at = (
        ""
        if where_odd is None
        else f" (the {odd_kind} are on row{'s' if len(where_odd) > 1 else ''} {_rows(where_odd)})"
    )
    raise InputError(
        f"{where} holds labels that mix numbers {nums} and names {names}{at}; one class set "
        "cannot hold both, so each would become its own class. Map the numeric codes to names "
        "(or the reverse) first, or fix those rows."
    )


def check_label_types(values: Any, *, where: str, rows: Any = None) -> np.ndarray:
    """Refuse a label column that mixes numbers and names; return which values are numbers.

    Parameters
    ----------
    values : array-like or Series of shape (N,)
        Label values without missing entries.
    where : str
        How the column is called in the message.
    rows : ndarray of shape (N,), int, optional
        Input row numbers of the values.

    Returns
    -------
    is_number : ndarray of shape (N,), bool
    """
    keys, isnum = canonical_labels(values)
    check_label_kinds(keys, isnum, where=where, rows=rows)
    return isnum
