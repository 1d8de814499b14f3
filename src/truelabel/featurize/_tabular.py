"""Tabular features: numeric columns standardised, categorical columns one-hot encoded.

The fitted encoder is a small JSON-able spec (:meth:`TabularFeaturizer.to_spec`) that
travels with a trained model, so ``predict`` encodes new rows exactly as at training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["TabularFeaturizer", "resolve_feature_columns"]

#: A categorical column keeps at most this many levels (the most frequent); the rest share
#: the all-zero code of an unseen level.
MAX_LEVELS = 100
#: An object column whose values parse as numbers on at least this share of its non-empty
#: rows is numeric (stray ``?`` or ``n/a`` become missing).
_NUMERIC_SHARE = 0.95


def resolve_feature_columns(
    frame: pd.DataFrame, columns: str | Sequence[str], *, exclude: Sequence[str | None] = ()
) -> list[str]:
    """The feature columns of a table.

    Parameters
    ----------
    frame : DataFrame
    columns : "auto", "a,b,c" or a sequence of names
        ``auto``: every column except ``exclude`` (the label, bag, candidate, id and
        teacher columns).
    exclude : sequence of str
        Columns that are never features (``None`` entries are ignored).

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        A named column is missing, or a named column is also the label/bag/id column,
        or nothing is left.
    """
    skip = [str(c) for c in exclude if c]
    if isinstance(columns, str) and columns.strip() == "auto":
        cols = [str(c) for c in frame.columns if str(c) not in skip]
        if not cols:
            raise InputError(
                "--feature-columns auto left no column: the table holds only the "
                f"label/bag/id columns {skip}."
            )
        return cols
    names = [c.strip() for c in columns.split(",")] if isinstance(columns, str) else list(columns)
    names = [str(c) for c in names if str(c)]
    if not names:
        raise InputError("--feature-columns is empty; pass auto or a comma-separated list.")
    have = {str(c) for c in frame.columns}
    missing = [c for c in names if c not in have]
    if missing:
        shown = ", ".join(repr(str(c)) for c in list(frame.columns)[:30])
        raise InputError(
            f"feature column(s) {missing} not in the table (columns: {shown}); fix "
            "--feature-columns or pass auto."
        )
    clash = [c for c in names if c in skip]
    if clash:
        raise InputError(
            f"feature column(s) {clash} are also the label/bag/id column; drop them from "
            "--feature-columns."
        )
    return names


def _as_numeric(col: pd.Series) -> pd.Series | None:
    """The column as float when it is numeric (or numbers with a few stray tokens)."""
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float)
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    s = col.astype("string").str.strip()
    filled = s.notna() & s.ne("")
    if not filled.any():
        return None
    num = pd.to_numeric(s.where(filled), errors="coerce")
    if num[filled].notna().mean() >= _NUMERIC_SHARE and s[filled].nunique() > 2:
        return num.astype(float)
    return None


class TabularFeaturizer:
    """Encode table columns as a dense float32 matrix.

    Numeric columns are standardised (mean 0, std 1 on the training rows; a missing
    value becomes the mean, and a ``<col>=missing`` indicator is added when the training
    rows had any). Other columns are categorical: one-hot over their
    ``MAX_LEVELS`` most frequent training values (missing is a level of its own);
    a value unseen at training encodes as all zeros.

    Parameters
    ----------
    columns : sequence of str
        The feature columns, in order.

    Attributes
    ----------
    spec_ : dict
        ``{"columns": [...], "encoders": [{"column", "kind": "numeric", "mean", "std",
        "missing"} | {"column", "kind": "categorical", "levels": [...]}]}``.
    feature_names_ : list of str
        One name per output column (``age``, ``workclass=Private``, …).
    """

    name = "tabular"
    model_id = "tabular-v1"

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)

    # ---------------------------------------------------------------- fit
    def fit(self, frame: pd.DataFrame) -> TabularFeaturizer:
        """Learn the encoders from the training rows of ``frame``."""
        self._check_columns(frame)
        encoders: list[dict[str, Any]] = []
        for c in self.columns:
            col = frame[c]
            num = _as_numeric(col)
            if num is not None:
                vals = num.to_numpy(dtype=np.float64)
                ok = np.isfinite(vals)
                mean = float(vals[ok].mean()) if ok.any() else 0.0
                std = float(vals[ok].std()) if ok.sum() > 1 else 1.0
                encoders.append(
                    {
                        "column": c,
                        "kind": "numeric",
                        "mean": mean,
                        "std": std if std > 1e-12 else 1.0,
                        "missing": bool((~ok).any()),
                    }
                )
            else:
                s = self._as_text(col)
                levels = s.value_counts(sort=True).index[:MAX_LEVELS]
                encoders.append(
                    {"column": c, "kind": "categorical", "levels": sorted(str(v) for v in levels)}
                )
        self.spec_: dict[str, Any] = {"columns": list(self.columns), "encoders": encoders}
        return self

    @staticmethod
    def _as_text(col: pd.Series) -> pd.Series:
        s = col.astype("string").str.strip()
        return s.fillna("<missing>").replace("", "<missing>").astype(object)

    def _check_columns(self, frame: pd.DataFrame) -> None:
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            shown = ", ".join(repr(str(c)) for c in list(frame.columns)[:30])
            raise InputError(
                f"feature column(s) {missing} used at training are not in the table "
                f"(columns: {shown}); pass a table with the training columns."
            )

    # ---------------------------------------------------------------- transform
    @property
    def feature_names_(self) -> list[str]:
        names: list[str] = []
        for e in self.spec_["encoders"]:
            if e["kind"] == "numeric":
                names.append(e["column"])
                if e["missing"]:
                    names.append(f"{e['column']}=missing")
            else:
                names.extend(f"{e['column']}={v}" for v in e["levels"])
        return names

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame``.

        Parameters
        ----------
        frame : DataFrame with the training columns

        Returns
        -------
        X : ndarray of shape (N, D), float32
        """
        if not hasattr(self, "spec_"):
            raise InputError("TabularFeaturizer is not fitted; call fit(frame) first.")
        self._check_columns(frame)
        blocks: list[np.ndarray] = []
        for e in self.spec_["encoders"]:
            col = frame[e["column"]]
            if e["kind"] == "numeric":
                num = _as_numeric(col)
                if num is None:  # all missing, or words where numbers were
                    num = pd.to_numeric(col.astype("string"), errors="coerce").astype(float)
                vals = num.to_numpy(dtype=np.float64)
                ok = np.isfinite(vals)
                z = np.where(ok, (vals - e["mean"]) / e["std"], 0.0)
                blocks.append(z[:, None])
                if e["missing"]:
                    blocks.append((~ok).astype(np.float64)[:, None])
            else:
                levels = np.asarray(e["levels"], dtype=object)
                s = self._as_text(col).astype(str).to_numpy()
                pos = pd.Index(levels).get_indexer(s)
                oh = np.zeros((len(s), len(levels)), dtype=np.float64)
                hit = pos >= 0
                oh[np.flatnonzero(hit), pos[hit]] = 1.0
                blocks.append(oh)
        X = np.hstack(blocks) if blocks else np.zeros((len(frame), 0))
        return np.ascontiguousarray(X, dtype=np.float32)

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(frame).transform(frame)

    # ---------------------------------------------------------------- spec
    def to_spec(self) -> dict[str, Any]:
        """The fitted encoder as JSON-able data (stored in ``model.json``)."""
        return {"name": self.name, "model_id": self.model_id, **self.spec_}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> TabularFeaturizer:
        """Rebuild a fitted featurizer from :meth:`to_spec` output."""
        try:
            obj = cls(spec["columns"])
            obj.spec_ = {"columns": list(spec["columns"]), "encoders": list(spec["encoders"])}  # fmt: skip
        except (KeyError, TypeError):
            raise InputError(
                "the model's tabular featurizer spec is incomplete; retrain the model."
            ) from None
        return obj
