"""The Votes table, coded once into integer arrays.

Every kind of supervision (a label column, crowd workers, labeling functions,
LLMs, reviewers, gold labels) becomes the long table ``(item_id, source, label,
weight?)``. The readers here map item ids, source names and class names to
integer codes once, so the label models in :mod:`truelabel.aggregate` work on
plain NumPy arrays.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._types import BoolArray, Float32Array, IntArray
from ..io._labels import canonical_labels, check_label_kinds, check_label_types

__all__ = [
    "VoteArrays",
    "check_votes",
    "votes_from_columns",
    "votes_from_matrix",
    "votes_from_table",
    "with_abstain_votes",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoteArrays:
    """Votes coded as integer arrays; abstentions are simply absent.

    Attributes
    ----------
    item, source, label : ndarray of shape (n_votes,), int32
        Item index (row of the posterior), source index and class index of each vote.
    n_items, n_sources, n_classes : int
        Sizes of the three code books.
    item_ids : ndarray of shape (n_items,)
        Original item ids; their order is the order of posterior rows.
    source_names : ndarray of shape (n_sources,), object
        Original source names (str).
    classes : ndarray of shape (n_classes,)
        Class names; column ``k`` of a posterior is ``classes[k]``.
    is_gold_source : ndarray of shape (n_sources,), bool
        Sources whose votes are gold labels (clamped, not estimated).
    weight : ndarray of shape (n_votes,), float32, optional
        Per-vote weight (e.g. an LLM's stated confidence); ``None`` means all 1.
    """

    item: IntArray
    source: IntArray
    label: IntArray
    n_items: int
    n_sources: int
    n_classes: int
    item_ids: np.ndarray
    source_names: np.ndarray
    classes: np.ndarray
    is_gold_source: BoolArray
    weight: Float32Array | None = None
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def n_votes(self) -> int:
        """Number of votes (rows of the long table)."""
        return int(self.item.shape[0])

    def gold_labels(self) -> IntArray:
        """Gold class code per item from the gold sources, -1 where there is none.

        Returns
        -------
        gold : ndarray of shape (n_items,), int64
        """
        gold = np.full(self.n_items, -1, dtype=np.int64)
        mask = self.is_gold_source[self.source]
        gold[self.item[mask]] = self.label[mask]
        return gold

    def without_gold(self) -> VoteArrays:
        """The same votes minus those of gold sources (sources keep their codes)."""
        mask = ~self.is_gold_source[self.source]
        if mask.all():
            return self
        return _replace(
            self,
            item=self.item[mask],
            source=self.source[mask],
            label=self.label[mask],
            weight=None if self.weight is None else self.weight[mask],
        )

    def votes_per_item(self) -> IntArray:
        """Number of non-gold votes of each item, shape (n_items,)."""
        v = self.without_gold()
        return np.bincount(v.item, minlength=self.n_items).astype(np.int64)

    def to_frame(self) -> pd.DataFrame:
        """The long table ``(item_id, source, label[, weight])`` with original names."""
        df = pd.DataFrame(
            {
                "item_id": self.item_ids[self.item],
                "source": self.source_names[self.source],
                "label": self.classes[self.label],
            }
        )
        if self.weight is not None:
            df["weight"] = self.weight
        return df


def with_abstain_votes(votes: VoteArrays, *, label: str = "<abstain>") -> VoteArrays:
    """Make "abstained" an answer: every (item, non-gold source) pair without a vote gets one.

    Labeling functions and LLM prompts see every item, so *not* firing is
    information (a keyword rule that abstains on an item says it lacks the
    keyword). Crowd workers see only some items, so there it is not. The extra
    observed label gets code ``n_classes``; ``info["n_true_classes"]`` keeps the
    number of real classes so label models never predict it.

    Returns
    -------
    VoteArrays
        ``n_classes`` grows by one (``classes[-1] == label``); gold votes are kept as they are.
    """
    k = int(votes.info.get("n_true_classes", votes.n_classes))
    if k != votes.n_classes:
        return votes  # already augmented
    plain = ~votes.is_gold_source
    srcs = np.flatnonzero(plain)
    voted = np.zeros((votes.n_items, votes.n_sources), dtype=bool)
    voted[votes.item, votes.source] = True
    miss_i, miss_j = np.nonzero(~voted[:, srcs])
    miss_s = srcs[miss_j]
    info = dict(votes.info)
    info["n_true_classes"] = k
    return _replace(
        votes,
        item=np.concatenate([votes.item, miss_i.astype(np.int32)]),
        source=np.concatenate([votes.source, miss_s.astype(np.int32)]),
        label=np.concatenate([votes.label, np.full(len(miss_i), k, dtype=np.int32)]),
        weight=None
        if votes.weight is None
        else np.concatenate([votes.weight, np.ones(len(miss_i), dtype=np.float32)]),
        n_classes=k + 1,
        classes=np.append(votes.classes, label).astype(object),
        info=info,
    )


def _replace(v: VoteArrays, **changes: Any) -> VoteArrays:
    kw = {f: getattr(v, f) for f in v.__dataclass_fields__}
    kw.update(changes)
    return VoteArrays(**kw)


def check_votes(votes: Any) -> VoteArrays:
    """Validate a :class:`VoteArrays` (shapes, dtypes, code ranges).

    Raises
    ------
    InputError
        Not a VoteArrays, mismatched lengths, or codes out of range.
    """
    if not isinstance(votes, VoteArrays):
        raise InputError(
            f"votes must be a VoteArrays; got {type(votes).__name__}. Build one with "
            "truelabel.sources.votes_from_table / votes_from_matrix / votes_from_columns."
        )
    n = votes.item.shape[0]
    for name in ("source", "label"):
        if getattr(votes, name).shape != (n,):
            raise InputError(
                f"votes.{name} has shape {getattr(votes, name).shape} but votes.item has ({n},)."
            )
    if votes.weight is not None and votes.weight.shape != (n,):
        raise InputError(f"votes.weight has shape {votes.weight.shape}; expected ({n},).")
    if votes.n_classes < 1:
        raise InputError("votes have no classes; pass classes= or at least one vote.")
    for name, size in (
        ("item", votes.n_items),
        ("source", votes.n_sources),
        ("label", votes.n_classes),
    ):
        arr = getattr(votes, name)
        if n and (arr.min() < 0 or arr.max() >= size):
            raise InputError(
                f"votes.{name} holds codes outside [0, {size}); got range "
                f"[{int(arr.min())}, {int(arr.max())}]."
            )
    if len(votes.item_ids) != votes.n_items or len(votes.classes) != votes.n_classes:
        raise InputError("votes.item_ids / votes.classes do not match n_items / n_classes.")
    if len(votes.source_names) != votes.n_sources or len(votes.is_gold_source) != votes.n_sources:
        raise InputError("votes.source_names / is_gold_source do not match n_sources.")
    return votes


# --------------------------------------------------------------------------- class names


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


def _canonical(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Map raw label values to canonical string keys (:func:`truelabel.io.canonical_labels`).

    Callers pass the *distinct* values (see :func:`_canonical_codes`): the string work is
    per distinct label, not per vote.
    """
    return canonical_labels(values)


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Hash-code ``values``: (codes of shape (n,), int64, -1 = missing; distinct values)."""
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=object)


def _canonical_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row code into the distinct canonical keys, the keys, and which keys are numbers.

    Returns
    -------
    codes : ndarray of shape (n,), int64
        Index into ``keys`` (-1 for a missing label).
    keys : ndarray of shape (n_keys,), object
    isnum : ndarray of shape (n_keys,), bool
    """
    codes, uniq = _factorize(values)
    raw_keys, raw_isnum = _canonical(pd.Series(uniq, dtype=object))
    # distinct raw values can share a key ("1" and 1.0): merge them
    kcodes, keys = _factorize(pd.Series(raw_keys, dtype=object))
    isnum = np.zeros(len(keys), dtype=bool)
    isnum[kcodes] = raw_isnum
    out = np.where(codes >= 0, kcodes[np.maximum(codes, 0)] if len(kcodes) else -1, -1)
    return out.astype(np.int64), keys, isnum


def _class_book(
    keys: np.ndarray, isnum: np.ndarray, classes: Sequence[Any] | None, where: str
) -> tuple[np.ndarray, dict[str, int]]:
    """Class names and the key -> code map (sorted; numeric classes sorted numerically).

    ``keys``/``isnum`` are the distinct canonical keys of the labels (see
    :func:`_canonical_codes`); repeated keys are allowed.
    """
    if classes is not None:
        cls = np.asarray(list(classes), dtype=object)
        ckeys, _ = _canonical(pd.Series(list(classes), dtype=object))
        if len(set(ckeys)) != len(ckeys):
            raise InputError(f"classes= has duplicates after normalisation: {list(classes)!r}.")
        return cls, {k: i for i, k in enumerate(ckeys)}
    check_label_kinds(keys, isnum, where=f"{where}: the label column")  # rows: votes_from_table
    num_mask = isnum[np.unique(keys, return_index=True)[1]] if len(keys) else np.array([], bool)
    uniq_sorted = np.unique(keys)
    if len(uniq_sorted) and num_mask.all():
        vals = np.array([float(k) for k in uniq_sorted])
        order = np.argsort(vals, kind="stable")
        ints = all(float(k).is_integer() for k in uniq_sorted)
        cls = np.array(
            [int(float(uniq_sorted[i])) if ints else float(uniq_sorted[i]) for i in order],
            dtype=object,
        )
        keys_sorted = uniq_sorted[order]
    else:
        cls = uniq_sorted.astype(object)
        keys_sorted = uniq_sorted
    return cls, {str(k): i for i, k in enumerate(keys_sorted)}


def _encode(
    codes: np.ndarray, keys: np.ndarray, book: dict[str, int], classes: np.ndarray, where: str
) -> IntArray:
    """Class code of every row from its key index (``codes``, -1 never passed in)."""
    key_class = np.array([book.get(str(k), -1) for k in keys], dtype=np.int64)
    out = key_class[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    bad = out < 0
    if bad.any():
        per_key = np.bincount(codes[bad], minlength=len(keys))
        order = np.argsort(-per_key, kind="stable")
        listed = ", ".join(f"{keys[j]!r} ({per_key[j]} rows)" for j in order[:5] if per_key[j])
        rows = np.flatnonzero(bad)
        shown = ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        raise InputError(
            f"{where} rows {shown}: {int(bad.sum())} labels are not one of the "
            f"{len(classes)} classes {list(classes)[:20]!r}: {listed}; fix those rows or pass "
            "classes=[...] (--classes) including them."
        )
    return out.astype(np.int32)


def _sort_codes(codes: np.ndarray, uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-number factorized codes so that the distinct values come out sorted."""
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.where(codes >= 0, rank[np.maximum(codes, 0)] if len(rank) else -1, -1), uniq[order]


def _code_names(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Code values by their string form: (codes of shape (n,), sorted distinct names)."""
    codes, uniq = _factorize(values)
    if (codes < 0).any():  # a missing name is the string "nan", as astype(str) makes it
        codes = np.where(codes < 0, len(uniq), codes)
        uniq = np.append(uniq, np.nan).astype(object)
    names = np.asarray([str(u) for u in uniq], dtype=object)
    ncodes, nuniq = _factorize(pd.Series(names, dtype=object))  # 1 and "1" are one name
    codes = ncodes[codes] if len(ncodes) else codes
    return _sort_codes(codes, nuniq.astype(str).astype(object))


def _code_items(ids: pd.Series, items: Sequence[Any] | None) -> tuple[np.ndarray, IntArray]:
    """Item ids in posterior order and each row's item code (-1 = unknown item)."""
    if items is None:
        codes, uniq = _factorize(ids)
        try:
            codes, uniq = _sort_codes(codes, uniq)
        except TypeError:  # ids of mixed types: compare them as strings
            codes, uniq = _code_names(ids)
        return np.asarray(uniq, dtype=object), codes.astype(np.int64)
    item_arr = np.asarray(list(items), dtype=object)
    index = pd.Index(item_arr)
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise InputError(f"the data has duplicate item ids {dup!r}; item ids must be unique.")
    codes = index.get_indexer(ids)
    if (codes < 0).any() and ids.dtype != object and index.dtype == object:
        codes = pd.Index(item_arr.astype(str)).get_indexer(pd.Index(ids.astype(str)))
    elif (codes < 0).any():
        codes2 = pd.Index(pd.Series(item_arr).astype(str)).get_indexer(pd.Index(ids.astype(str)))
        codes = np.where(codes < 0, codes2, codes)
    return item_arr, codes.astype(np.int64)


def _read_votes_frame(
    data: str | Path | pd.DataFrame,
    item_column: str,
    source_column: str,
    label_column: str,
    weight_column: str | None,
    where: str,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The votes table with columns ``item, source, label[, weight]``, empty labels dropped.

    Shared by the class and the numeric readers. Returns the frame and ``info`` with
    ``n_empty_labels``.

    Raises
    ------
    InputError
        A missing column or an empty item id (naming the row).
    """
    from ..io import read_table

    df = read_table(data)
    needed = [item_column, source_column, label_column] + ([weight_column] if weight_column else [])
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(
            f"{where}: no column {missing[0]!r}; the columns are {list(df.columns)[:20]!r}. "
            "Pass --item-column/--source-column/--label-column naming them."
        )
    info: dict[str, Any] = {}
    # votes written by `truelabel lf apply` say they are labeling-function votes
    raw_marks = df.attrs.get("truelabel")
    marks: dict[str, Any] = raw_marks if isinstance(raw_marks, dict) else {}
    if marks.get("abstain_informative"):
        info["abstain_informative"] = True
    if isinstance(marks.get("classes"), list):
        info["declared_classes"] = list(marks["classes"])
    df = df[needed].copy()
    df.columns = ["item", "source", "label"] + (["weight"] if weight_column else [])
    item_na = df["item"].isna().to_numpy()
    if item_na.any():
        row = int(np.flatnonzero(item_na)[0])
        raise InputError(f"{where} row {row}: empty {item_column!r}; every vote needs an item id.")
    lcodes, luniq = _factorize(df["label"])
    blank = np.array([isinstance(u, str) and not u.strip() for u in luniq], dtype=bool)
    empty = (lcodes < 0) | (blank[np.maximum(lcodes, 0)] if len(blank) else False)
    info["n_empty_labels"] = int(empty.sum())
    if empty.any():
        if info.get("abstain_informative"):
            # labeling-function votes: an item every rule abstained on is still an item
            info["abstain_only_items"] = df.loc[empty, "item"].reset_index(drop=True)
        df = df.assign(row=np.arange(len(df))).loc[~empty].reset_index(drop=True)
    return df, info


def _dedup_last(
    item: np.ndarray, scodes: np.ndarray, n_sources: int, where: str, info: dict[str, Any]
) -> np.ndarray:
    """Row indices keeping the LAST vote of each (item, source) pair, in row order.

    Sets ``info["n_duplicate_votes"]`` and warns when a pair was voted more than once.
    """
    key = item.astype(np.int64) * max(n_sources, 1) + scodes.astype(np.int64)
    dup = pd.Index(key).duplicated(keep="last")
    n_dup = int(dup.sum())
    info["n_duplicate_votes"] = n_dup
    if n_dup:
        dup_pairs = int(len(np.unique(key[dup])))
        warnings.warn(
            f"{where}: {n_dup} votes repeat an (item, source) pair already voted "
            f"({dup_pairs} pairs affected); kept the last vote of each pair. Deduplicate the "
            "table to silence this.",
            UserWarning,
            stacklevel=4,
        )
        return np.flatnonzero(~dup)
    return np.arange(len(key))


def _read_gold_frame(gold: Any, item_column: str, label_column: str) -> pd.DataFrame:
    """The gold table as columns ``item``, ``label`` (rows with an empty cell dropped)."""
    from ..io import read_table

    gwhere = str(gold) if not isinstance(gold, pd.DataFrame) else "gold"
    graw = read_table(gold)
    for c in (item_column, label_column):
        if c not in graw.columns:
            raise InputError(
                f"{gwhere}: no column {c!r}; the columns are {list(graw.columns)[:20]!r}. "
                "Pass --gold-item-column/--gold-label-column."
            )
    gdf = graw[[item_column, label_column]].dropna().copy()
    gdf.columns = ["item", "label"]
    return gdf.reset_index(drop=True)


def _check_gold_source_name(gold_source: str, source_names: np.ndarray, where: str) -> None:
    if gold_source in set(np.asarray(source_names).astype(str).tolist()):
        raise InputError(
            f"{where}: a source is already called {gold_source!r}; rename it or pass another "
            "gold_source name."
        )


def _code_vote_items(
    df: pd.DataFrame,
    gdf: pd.DataFrame | None,
    items: Sequence[Any] | None,
    ignore_unknown: bool,
    where: str,
    info: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Item ids and the item code of every vote row and gold row (-1 = unknown, dropped).

    Items only abstained on (``info["abstain_only_items"]``, LF votes) become items too.
    Unknown items are refused unless ``ignore_unknown`` (then counted and logged).

    Returns
    -------
    (item_ids, vote_codes of shape (len(df),), gold_codes of shape (len(gdf),))
    """
    id_parts = [df["item"]] + ([gdf["item"]] if gdf is not None else [])
    abstain_only = info.pop("abstain_only_items", None)
    if abstain_only is not None and items is None:
        id_parts.append(abstain_only)  # coded as items, cast no vote
    all_ids = id_parts[0] if len(id_parts) == 1 else pd.concat(id_parts, ignore_index=True)
    item_ids, codes = _code_items(all_ids, items)
    if abstain_only is not None and items is None:
        all_ids = all_ids[: len(all_ids) - len(abstain_only)]
        codes = codes[: len(codes) - len(abstain_only)]
    unknown = codes < 0
    info["n_unknown_item_votes"] = int(unknown.sum())
    if unknown.any():
        ex = pd.unique(all_ids[unknown])[:5].tolist()
        msg = (
            f"{where}: {int(unknown.sum())} votes are for {len(pd.unique(all_ids[unknown]))} "
            f"items that are not in the data (e.g. {ex!r})"
        )
        if not ignore_unknown:
            raise InputError(msg + "; fix the item ids or pass --ignore-unknown to drop them.")
        logger.warning("%s; dropped (--ignore-unknown).", msg)
    return item_ids, codes[: len(df)], codes[len(df) :]


def votes_from_table(
    data: str | Path | pd.DataFrame,
    *,
    item_column: str = "item_id",
    source_column: str = "source",
    label_column: str = "label",
    weight_column: str | None = None,
    classes: Sequence[Any] | None = None,
    items: Sequence[Any] | None = None,
    ignore_unknown: bool = False,
    gold: str | Path | pd.DataFrame | None = None,
    gold_item_column: str | None = None,
    gold_label_column: str | None = None,
    gold_source: str = "gold",
    name: str | None = None,
) -> VoteArrays:
    """Code a long votes table ``(item, source, label[, weight])`` into :class:`VoteArrays`.

    Parameters
    ----------
    data : path or DataFrame
        The long table (csv/tsv/jsonl/parquet). Rows with an empty label are abstentions
        and are dropped.
    item_column, source_column, label_column : str
        Column names.
    weight_column : str, optional
        Per-vote weight column (>= 0).
    classes : sequence, optional
        The class list (column order of the posterior). Default: the sorted labels seen
        in the votes (numbers sorted numerically).
    items : sequence, optional
        Every item id of the data, in posterior order. Items without votes are kept
        (they get the prior); votes for ids not listed are unknown: refused unless
        ``ignore_unknown``.
    ignore_unknown : bool
        Drop votes for unknown items (their count is logged and kept in ``info``).
    gold : path or DataFrame, optional
        Gold labels; become the votes of one source named ``gold_source``, marked gold.
    gold_item_column, gold_label_column : str, optional
        Columns of ``gold``; default ``item_column`` / ``label_column``.
    gold_source : str
        Name of the gold source.
    name : str, optional
        How the table is called in messages (default: its file name).

    Returns
    -------
    VoteArrays
        ``info`` holds counts of dropped duplicates, unknown-item votes and empty labels.

    Raises
    ------
    InputError
        Missing columns, unknown labels, mixed numeric/string labels, votes for unknown
        items (without ``ignore_unknown``), gold labels of a class no source used.

    Warns
    -----
    UserWarning
        When a source voted more than once for an item (the last vote is kept).
    """

    where = name or (str(data) if not isinstance(data, pd.DataFrame) else "votes")
    df, info = _read_votes_frame(
        data, item_column, source_column, label_column, weight_column, where
    )
    scodes, snames = _code_names(df["source"])

    gdf = None
    if gold is not None:
        gdf = _read_gold_frame(
            gold, gold_item_column or item_column, gold_label_column or label_column
        )
        _check_gold_source_name(gold_source, snames, where)
    item_ids, vote_codes, gold_codes = _code_vote_items(df, gdf, items, ignore_unknown, where, info)

    # classes: from votes only, so a gold class nobody voted for is reported.
    lcodes, vkeys, visnum = _canonical_codes(df["label"])
    declared = info.get("declared_classes")
    if classes is None and declared is None and visnum.any() and not visnum.all():
        rows = df["row"].to_numpy() if "row" in df.columns else np.arange(len(df))
        ok = lcodes >= 0
        check_label_kinds(
            vkeys[lcodes[ok]],
            visnum[lcodes[ok]],
            where=f"{where}: label column {label_column!r}",
            rows=rows[ok],
        )
    cls, book = _class_book(vkeys, visnum, classes if classes is not None else declared, where)
    keep = vote_codes >= 0
    labels = _encode(lcodes, vkeys, book, cls, where)
    item_arr = vote_codes[keep]
    src_arr = scodes[keep]
    if not keep.all():  # sources left without votes by dropped rows are not sources
        used, src_arr = np.unique(src_arr, return_inverse=True)
        snames = snames[used]
    label_arr = labels[keep].astype(np.int64)
    weight = df["weight"].to_numpy(dtype=np.float64)[keep] if weight_column else None
    if weight is not None and (~np.isfinite(weight) | (weight < 0)).any():
        raise InputError(f"{where}: column {weight_column!r} must hold finite weights >= 0.")
    if gdf is not None:
        gkeys, gisnum = _canonical(gdf["label"])
        gcodes = pd.Series(gkeys, dtype=object).map(book)
        if gcodes.isna().any():
            bad = pd.Series(gkeys[gcodes.isna().to_numpy()]).value_counts()
            listed = ", ".join(f"{k!r} ({c} items)" for k, c in bad.head(5).items())
            raise InputError(
                f"gold: labels {listed} are not among the {len(cls)} classes the sources used "
                f"{list(cls)[:20]!r}; fix the gold file or pass classes=[...] (--classes) listing "
                "every class."
            )
        gk = gold_codes >= 0
        # the gold source takes its sorted place among the source names
        at = int(np.searchsorted(snames.astype(str), gold_source))
        snames = np.insert(snames, at, gold_source).astype(object)
        src_arr = np.where(src_arr >= at, src_arr + 1, src_arr)
        item_arr = np.concatenate([item_arr, gold_codes[gk]])
        src_arr = np.concatenate([src_arr, np.full(int(gk.sum()), at, dtype=np.int64)])
        label_arr = np.concatenate([label_arr, gcodes.to_numpy(dtype=np.int64)[gk]])
        if weight is not None:
            weight = np.concatenate([weight, np.ones(int(gk.sum()))])
    return _assemble(
        item_arr,
        None,
        label_arr,
        weight,
        item_ids=item_ids,
        classes=cls,
        gold_sources={gold_source} if gdf is not None else set(),
        info=info,
        where=where,
        source_names=snames,
        source_codes=src_arr,
    )


def _assemble(
    item: np.ndarray,
    source_raw: np.ndarray | None,
    label: np.ndarray,
    weight: np.ndarray | None,
    *,
    item_ids: np.ndarray,
    classes: np.ndarray,
    gold_sources: set[str],
    info: dict[str, Any],
    where: str,
    source_names: np.ndarray | None = None,
    source_codes: np.ndarray | None = None,
) -> VoteArrays:
    """Code sources, drop duplicate (item, source) votes keeping the last, build VoteArrays."""
    if source_codes is None:
        if source_raw is None:
            raise InputError("internal: _assemble needs source names or codes.")
        scodes, source_names = _code_names(pd.Series(source_raw, dtype=object))
    else:
        scodes = source_codes
    if source_names is None:
        raise InputError("internal: _assemble needs source names with source codes.")
    n_sources = len(source_names)
    keep_idx = _dedup_last(item, scodes, n_sources, where, info)
    is_gold = np.array([str(s) in gold_sources for s in source_names], dtype=bool)
    return VoteArrays(
        item=item[keep_idx].astype(np.int32),
        source=scodes[keep_idx].astype(np.int32),
        label=label[keep_idx].astype(np.int32),
        n_items=len(item_ids),
        n_sources=n_sources,
        n_classes=len(classes),
        item_ids=np.asarray(item_ids, dtype=object),
        source_names=np.asarray(source_names, dtype=object),
        classes=np.asarray(classes, dtype=object),
        is_gold_source=is_gold,
        weight=None if weight is None else weight[keep_idx].astype(np.float32),
        info=info,
    )


def votes_from_matrix(
    L: Any,
    *,
    abstain: int = -1,
    classes: Sequence[Any] | None = None,
    n_classes: int | None = None,
    item_ids: Sequence[Any] | None = None,
    source_names: Sequence[Any] | None = None,
    gold: Any = None,
) -> VoteArrays:
    """Code a wide label matrix (one column per source, e.g. WRENCH ``weak_labels``).

    Parameters
    ----------
    L : array-like of shape (n_items, n_sources), int
        Class codes ``0..K-1``; ``abstain`` marks no vote.
    abstain : int, default -1
    classes : sequence, optional
        Class names for codes ``0..K-1``.
    n_classes : int, optional
        K when ``classes`` is not given; default ``L.max() + 1``.
    item_ids, source_names : sequence, optional
        Default ``0..n_items-1`` and ``lf_0, lf_1, ...``.
    gold : array-like of shape (n_items,), int, optional
        Gold codes (-1 = no gold); added as a gold source named ``gold``.

    Returns
    -------
    VoteArrays
    """
    arr = np.asarray(L)
    if arr.ndim != 2:
        raise InputError(f"the label matrix must be 2-D (items x sources); got shape {arr.shape}.")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise InputError(
                "the label matrix must hold integer class codes (and the abstain value)."
            )
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise InputError(f"the label matrix must hold integer class codes; got dtype {arr.dtype}.")
    n, m = arr.shape
    voted = arr != abstain
    if classes is not None:
        k = len(classes)
    else:
        k = int(
            n_classes if n_classes is not None else (arr[voted].max() + 1 if voted.any() else 1)
        )
    if voted.any() and (arr[voted].min() < 0 or arr[voted].max() >= k):
        raise InputError(
            f"the label matrix holds codes outside 0..{k - 1} (abstain={abstain}); got range "
            f"[{int(arr[voted].min())}, {int(arr[voted].max())}]. Pass the right abstain= or classes=."
        )
    rows, cols = np.nonzero(voted)
    labels = arr[rows, cols]
    names = (
        np.asarray([str(s) for s in source_names], dtype=object)
        if source_names is not None
        else np.asarray([f"lf_{j}" for j in range(m)], dtype=object)
    )
    if len(names) != m:
        raise InputError(f"source_names has {len(names)} names but the matrix has {m} columns.")
    scodes = cols
    gold_sources: set[str] = set()
    if gold is not None:
        g = np.asarray(gold).astype(np.int64)
        if g.shape != (n,):
            raise InputError(f"gold has shape {g.shape}; expected ({n},) with -1 for no gold.")
        if (g >= k).any():
            raise InputError(f"gold holds code {int(g.max())} but there are only {k} classes.")
        gi = np.flatnonzero(g >= 0)
        rows = np.concatenate([rows, gi])
        labels = np.concatenate([labels, g[gi]])
        scodes = np.concatenate([scodes, np.full(len(gi), m)])
        names = np.append(names, "gold").astype(object)
        gold_sources = {"gold"}
    ids = (
        np.asarray(list(item_ids), dtype=object)
        if item_ids is not None
        else np.arange(n).astype(object)
    )
    if len(ids) != n:
        raise InputError(f"item_ids has {len(ids)} ids but the matrix has {n} rows.")
    cls = (
        np.asarray(list(classes), dtype=object)
        if classes is not None
        else np.arange(k).astype(object)
    )
    return _assemble(
        rows,
        names[scodes],
        labels,
        None,
        item_ids=ids,
        classes=cls,
        gold_sources=gold_sources,
        info={"abstain_informative": True},
        where="label matrix",
        source_names=names,
        source_codes=scodes,
    )


def votes_from_columns(
    data: str | Path | pd.DataFrame,
    columns: Sequence[str],
    *,
    item_column: str | None = None,
    classes: Sequence[Any] | None = None,
    abstain: Any = None,
    gold_column: str | None = None,
) -> VoteArrays:
    """Code several label columns of one table, each column a source.

    Parameters
    ----------
    data : path or DataFrame
    columns : sequence of str
        Label columns; the column name is the source name. Empty cells are abstentions.
    item_column : str, optional
        Item ids; default the row number.
    classes : sequence, optional
        Class list (default: sorted labels seen).
    abstain : scalar, optional
        A value meaning "no vote" besides empty cells (e.g. -1).
    gold_column : str, optional
        A column of gold labels, added as a gold source.

    Returns
    -------
    VoteArrays
    """
    from ..io import read_table

    df = read_table(data)
    cols = list(columns) + ([gold_column] if gold_column else [])
    missing = [c for c in cols + ([item_column] if item_column else []) if c not in df.columns]
    if missing:
        raise InputError(f"no column {missing[0]!r}; the columns are {list(df.columns)[:20]!r}.")
    if not columns:
        raise InputError("pass at least one label column (each column is one source).")
    ids = df[item_column] if item_column else pd.Series(np.arange(len(df)))
    cells = df[list(columns)].stack()  # non-empty cells, indexed (row, column)
    cells = cells[(cells.astype(str).str.strip() != "").to_numpy()]
    if abstain is not None:
        cells = cells[(cells.astype(str) != str(abstain)).to_numpy()]
    check_label_types(
        cells, where=f"the vote columns {list(columns)}", rows=cells.index.get_level_values(0)
    )
    long = df[list(columns)].copy()
    long["__item"] = ids.to_numpy()
    long = long.melt(id_vars="__item", var_name="source", value_name="label")
    if abstain is not None:
        long = long[long["label"].astype(str) != str(abstain)]
    gold_df = None
    if gold_column:
        gold_df = pd.DataFrame({"__item": ids.to_numpy(), "label": df[gold_column].to_numpy()})
    return votes_from_table(
        long,
        item_column="__item",
        source_column="source",
        label_column="label",
        classes=classes,
        items=ids.tolist(),
        gold=gold_df,
        gold_item_column="__item",
        gold_label_column="label",
        name="label columns",
    )
