"""The one rule for matching label values: ``1``, ``1.0``, ``"1"`` and ``" 1 "`` are one class.

Every place that codes labels against a class list (vote tables, gold files, a
dataset's label column, the consensus of ``audit --votes``) compares these keys,
so a file with integer labels and one with the same labels written as text agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["label_keys"]


def label_keys(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Canonical string key of each label value, and which values are numbers.

    Integral numbers (ints, integral floats, numeric strings such as ``"1.0"``) become
    their integer text (``"1"``); other numbers their ``str``; other values their
    stripped text.

    Parameters
    ----------
    values : array-like or Series of shape (n,)

    Returns
    -------
    keys : ndarray of shape (n,), object
    is_number : ndarray of shape (n,), bool
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
    text = s.astype(str).str.strip()
    num = pd.to_numeric(text, errors="coerce")
    isnum = num.notna().to_numpy()
    out = text.to_numpy(dtype=object).copy()
    nv = num.to_numpy(dtype=np.float64)
    integral = isnum & np.isfinite(nv) & (nv == np.round(np.nan_to_num(nv)))
    out[integral] = nv[integral].astype(np.int64).astype(str)
    return out, isnum
