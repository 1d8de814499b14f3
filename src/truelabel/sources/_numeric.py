"""Numeric votes (ratings, scores, measurements) coded once into arrays.

The long table ``(item_id, source, label)`` is the same as for class labels; only the
label is a number. :class:`NumericVotes` keeps the item and source codes of
:class:`~truelabel.sources.VoteArrays` and a float ``value`` per vote instead of a
class code, so a later task type (regression through every stage) can reuse it.

:func:`detect_label_type` decides, from the labels alone, whether a votes table holds
classes or numbers (``aggregate --label-type auto``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._types import BoolArray, IntArray
from ._votes import (
    _check_gold_source_name,
    _code_names,
    _code_vote_items,
    _dedup_last,
    _read_gold_frame,
    _read_votes_frame,
)

__all__ = [
    "LABEL_TYPES",
    "NumericVotes",
    "check_numeric_votes",
    "detect_label_type",
    "numeric_votes_from_table",
]

logger = logging.getLogger(__name__)

LABEL_TYPES = ("auto", "categorical", "numeric")

#: Integer labels with more distinct values than this are numbers, not classes, unless
#: they look like class codes: none negative, and filling at least half of their range
#: (0..K-1 or 1..K, or a sample of those codes that misses a few classes).
MAX_INTEGER_CLASSES = 20

#: Integer codes with at least this many values get a note that they may be ratings.
RATING_HINT_VALUES = 5


@dataclass(frozen=True)
class NumericVotes:
    """Numeric votes coded as arrays; abstentions are simply absent.

    Attributes
    ----------
    item, source : ndarray of shape (n_votes,), int32
        Item index (row of the estimates) and source index of each vote.
    value : ndarray of shape (n_votes,), float64
        The number each source gave.
    n_items, n_sources : int
    item_ids : ndarray of shape (n_items,)
        Original item ids; their order is the order of the estimates.
    source_names : ndarray of shape (n_sources,), object
    is_gold_source : ndarray of shape (n_sources,), bool
        Sources whose values are gold (clamped, not estimated).
    info : dict
        Counts of dropped rows (empty labels, duplicates, unknown items).
    """

    item: IntArray
    source: IntArray
    value: np.ndarray
    n_items: int
    n_sources: int
    item_ids: np.ndarray
    source_names: np.ndarray
    is_gold_source: BoolArray
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def n_votes(self) -> int:
        """Number of votes."""
        return int(self.item.shape[0])

    def gold_values(self) -> np.ndarray:
        """Gold value per item from the gold sources, NaN where there is none.

        Returns
        -------
        gold : ndarray of shape (n_items,), float64
        """
        gold = np.full(self.n_items, np.nan)
        mask = self.is_gold_source[self.source]
        gold[self.item[mask]] = self.value[mask]
        return gold

    def without_gold(self) -> NumericVotes:
        """The same votes minus those of gold sources (sources keep their codes)."""
        mask = ~self.is_gold_source[self.source]
        if mask.all():
            return self
        kw = {f: getattr(self, f) for f in self.__dataclass_fields__}
        kw.update(item=self.item[mask], source=self.source[mask], value=self.value[mask])
        return NumericVotes(**kw)

    def to_frame(self) -> pd.DataFrame:
        """The long table ``(item_id, source, label)`` with original names."""
        return pd.DataFrame(
            {
                "item_id": self.item_ids[self.item],
                "source": self.source_names[self.source],
                "label": self.value,
            }
        )


def check_numeric_votes(votes: Any) -> NumericVotes:
    """Validate a :class:`NumericVotes` (shapes, code ranges, finite values).

    Raises
    ------
    InputError
        Not a NumericVotes, mismatched lengths, codes out of range or non-finite values.
    """
    if not isinstance(votes, NumericVotes):
        raise InputError(
            f"votes must be a NumericVotes; got {type(votes).__name__}. Build one with "
            "truelabel.sources.numeric_votes_from_table."
        )
    n = votes.item.shape[0]
    for name in ("source", "value"):
        if getattr(votes, name).shape != (n,):
            raise InputError(
                f"votes.{name} has shape {getattr(votes, name).shape} but votes.item has ({n},)."
            )
    for name, size in (("item", votes.n_items), ("source", votes.n_sources)):
        arr = getattr(votes, name)
        if n and (arr.min() < 0 or arr.max() >= size):
            raise InputError(
                f"votes.{name} holds codes outside [0, {size}); got range "
                f"[{int(arr.min())}, {int(arr.max())}]."
            )
    if n and not np.isfinite(votes.value).all():
        bad = int(np.flatnonzero(~np.isfinite(votes.value))[0])
        raise InputError(f"votes.value[{bad}] is {votes.value[bad]}; values must be finite.")
    if len(votes.item_ids) != votes.n_items:
        raise InputError("votes.item_ids does not match n_items.")
    if len(votes.source_names) != votes.n_sources or len(votes.is_gold_source) != votes.n_sources:
        raise InputError("votes.source_names / is_gold_source do not match n_sources.")
    return votes


def _as_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Labels as float64 and a mask of those that are numbers (empty cells are not).

    Text labels are parsed per distinct value (hash-coded first), not per row.
    """
    v = values.to_numpy()
    if v.dtype.kind in "iub":
        return v.astype(np.float64), np.ones(len(v), dtype=bool)
    if v.dtype.kind == "f":
        return v.astype(np.float64), np.isfinite(v)
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    parsed = pd.to_numeric(
        pd.Series(uniq, dtype=object).astype(str).str.strip(), errors="coerce"
    ).to_numpy(np.float64)
    num = np.where(codes >= 0, parsed[np.maximum(codes, 0)] if len(parsed) else np.nan, np.nan)
    return num, np.isfinite(num)


def detect_label_type(values: pd.Series) -> tuple[str, str]:
    """Whether a label column holds classes or numbers, and why (one sentence).

    Numbers: every non-empty label parses as a finite number, and either some are
    fractional (``0.35``) or there are more than ``MAX_INTEGER_CLASSES`` distinct
    integers that do not look like class codes (some negative, or filling less than half
    of their range: ``-100..100`` ratings, ``0, 3, 6, …``). Everything else is categorical
    (integer codes ``0..K-1`` / ``1..K`` even with a few classes absent, names).

    Parameters
    ----------
    values : Series
        The label column (empty cells already dropped or not: they are ignored).

    Returns
    -------
    (label_type, reason) : ("numeric" | "categorical", str)
    """
    s = values[values.notna()]
    if s.dtype == object:
        s = s[s.astype(str).str.strip() != ""]
    if len(s) == 0:
        return "categorical", "there are no labels"
    num, ok = _as_numbers(s)
    if not ok.all():
        return "categorical", "some labels are not numbers"
    uniq = np.unique(num)
    fractional = bool((uniq != np.round(uniq)).any())
    if fractional:
        return (
            "numeric",
            f"every label is a number and some are fractional ({len(uniq)} distinct values "
            f"in [{uniq[0]:g}, {uniq[-1]:g}])",
        )
    k = len(uniq)
    # class codes: none negative and at least half of min..max present (a sample of
    # Banking77's codes 0..76 holds 70 of them; ratings -100..100 or a 0, 3, 6 … grid do not)
    codes = k >= 2 and uniq[0] >= 0 and 2 * k >= uniq[-1] - uniq[0] + 1
    if k > MAX_INTEGER_CLASSES and not codes:
        return (
            "numeric",
            f"every label is a number, with {k} distinct values in [{uniq[0]:g}, {uniq[-1]:g}]",
        )
    why = f"the labels are {k} integer codes {uniq[0]:g}..{uniq[-1]:g}"
    if k >= RATING_HINT_VALUES:  # 0..10 ratings look exactly like 11 class codes
        why += "; if they are ratings or scores, pass --label-type numeric (or --method mean)"
    return "categorical", why


def numeric_votes_from_table(
    data: str | Path | pd.DataFrame,
    *,
    item_column: str = "item_id",
    source_column: str = "source",
    label_column: str = "label",
    items: Any = None,
    ignore_unknown: bool = False,
    gold: str | Path | pd.DataFrame | None = None,
    gold_item_column: str | None = None,
    gold_label_column: str | None = None,
    gold_source: str = "gold",
    name: str | None = None,
) -> NumericVotes:
    """Code a long votes table whose labels are numbers into :class:`NumericVotes`.

    Parameters
    ----------
    data : path or DataFrame
        The long table (csv/tsv/jsonl/parquet). Rows with an empty label are abstentions.
    item_column, source_column, label_column : str
    items : sequence, optional
        Every item id, in estimate order (items without votes are kept).
    ignore_unknown : bool
        Drop votes for items not in ``items`` instead of refusing.
    gold : path or DataFrame, optional
        Gold values; they become the votes of one source named ``gold_source``.
    gold_item_column, gold_label_column : str, optional
    gold_source : str
    name : str, optional
        How the table is called in messages.

    Returns
    -------
    NumericVotes

    Raises
    ------
    InputError
        Missing columns, a label that is not a number (naming the row), votes for
        unknown items.
    """
    where = name or (str(data) if not isinstance(data, pd.DataFrame) else "votes")
    df, info = _read_votes_frame(data, item_column, source_column, label_column, None, where)
    value, ok = _as_numbers(df["label"])
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise InputError(
            f"{where} row {row}: label {df['label'].iloc[row]!r} is not a number; numeric "
            "aggregation needs a number in every non-empty label (or pass --label-type "
            "categorical)."
        )
    scodes, snames = _code_names(df["source"])
    values = value
    gdf = None
    if gold is not None:
        gdf = _read_gold_frame(
            gold, gold_item_column or item_column, gold_label_column or label_column
        )
        gvalue, gok = _as_numbers(gdf["label"])
        if not gok.all():
            row = int(np.flatnonzero(~gok)[0])
            raise InputError(f"gold row {row}: {gdf['label'].iloc[row]!r} is not a number.")
        _check_gold_source_name(gold_source, snames, where)
    item_ids, vote_codes, gold_codes = _code_vote_items(df, gdf, items, ignore_unknown, where, info)
    item = vote_codes
    if gdf is not None:  # the gold source takes its sorted place among the names
        at = int(np.searchsorted(snames.astype(str), gold_source))
        snames = np.insert(snames, at, gold_source).astype(object)
        scodes = np.where(scodes >= at, scodes + 1, scodes)
        item = np.concatenate([vote_codes, gold_codes])
        scodes = np.concatenate([scodes, np.full(len(gold_codes), at, dtype=np.int64)])
        values = np.concatenate([values, gvalue])
    keep = item >= 0
    item, scodes, values = item[keep], scodes[keep], values[keep]
    if not keep.all():  # sources left without votes by dropped rows are not sources
        used, scodes = np.unique(scodes, return_inverse=True)
        snames = snames[used]
    keep_idx = _dedup_last(item, scodes, len(snames), where, info)
    return NumericVotes(
        item=item[keep_idx].astype(np.int32),
        source=scodes[keep_idx].astype(np.int32),
        value=values[keep_idx].astype(np.float64),
        n_items=len(item_ids),
        n_sources=len(snames),
        item_ids=np.asarray(item_ids, dtype=object),
        source_names=np.asarray(snames, dtype=object),
        is_gold_source=(np.asarray(snames).astype(str) == gold_source)
        if gdf is not None
        else np.zeros(len(snames), dtype=bool),
        info=info,
    )
