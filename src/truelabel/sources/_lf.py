"""Labeling functions: small rules that vote for a class or abstain.

A labeling function takes the whole DataFrame and returns one label per row
(``None``/NaN = abstain), so rules run as vectorised pandas string or numeric
operations, never row by row. Helpers build the common kinds (keyword, regex,
threshold); :func:`apply_lfs` stacks them into :class:`VoteArrays`;
:func:`lf_analysis` gives the coverage / overlap / conflict / polarity /
empirical-accuracy table.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ._votes import VoteArrays, _canonical, votes_from_matrix

__all__ = [
    "LabelingFunction",
    "apply_lfs",
    "keyword_lf",
    "labeling_function",
    "lf_analysis",
    "regex_lf",
    "threshold_lf",
]


@dataclass(frozen=True)
class LabelingFunction:
    """A named rule that votes for a class or abstains (``None``/NaN).

    Attributes
    ----------
    name : str
    func : callable
        ``func(df) -> labels`` (a Series/array of length ``len(df)``), or with
        ``per_row=True`` ``func(row) -> label`` called on each row (a named tuple with the
        columns as attributes, like Snorkel's ``x``).
    per_row : bool
        Whether ``func`` takes one row (slow: a Python call per row) instead of the frame.
    """

    name: str
    func: Callable[..., Any]
    per_row: bool = False

    def __call__(self, df: pd.DataFrame) -> pd.Series:
        if self.per_row:
            return pd.Series([self.func(r) for r in df.itertuples(index=False)], dtype=object)
        out = self.func(df)
        s = out if isinstance(out, pd.Series) else pd.Series(np.asarray(out, dtype=object))
        if len(s) != len(df):
            raise InputError(
                f"labeling function {self.name!r} returned {len(s)} labels for {len(df)} rows; "
                "return one label (or None to abstain) per row."
            )
        return s.reset_index(drop=True)


def labeling_function(
    name: str | Callable[..., Any] | None = None,
    *,
    per_row: bool = False,
) -> Any:
    """Decorator turning ``f(df) -> labels`` into a :class:`LabelingFunction`.

    Usable bare (``@labeling_function``) or with a name
    (``@labeling_function("lf_refund")``). The function receives the whole
    DataFrame and returns one label per row; ``None``/NaN means abstain. With
    ``per_row=True`` it receives one row at a time (``row.text``) and returns one label:
    simpler to write, but a Python call per row.

    Examples
    --------
    >>> @labeling_function
    ... def lf_free(df):
    ...     return np.where(df["text"].str.contains("free", case=False), "spam", None)
    >>> @labeling_function(per_row=True)
    ... def lf_short(row):
    ...     return "ham" if len(row.text.split()) < 5 else None
    """
    if callable(name):
        return LabelingFunction(getattr(name, "__name__", "lf"), name, per_row)

    def wrap(f: Callable[..., Any]) -> LabelingFunction:
        return LabelingFunction(str(name or getattr(f, "__name__", "lf")), f, per_row)

    return wrap


def _text(df: pd.DataFrame, column: str) -> pd.Series:
    if column not in df.columns:
        raise InputError(f"no column {column!r}; the columns are {list(df.columns)[:20]!r}.")
    return df[column].fillna("").astype(str)


def keyword_lf(
    keywords: Sequence[str],
    label: Any,
    *,
    column: str = "text",
    case: bool = False,
    name: str | None = None,
) -> LabelingFunction:
    """Vote ``label`` when ``column`` contains any of ``keywords`` as a whole word."""
    if not keywords:
        raise InputError("keyword_lf needs at least one keyword.")
    pattern = r"\b(?:" + "|".join(re.escape(k) for k in keywords) + r")\b"
    flags = 0 if case else re.IGNORECASE
    rx = re.compile(pattern, flags)

    def f(df: pd.DataFrame) -> pd.Series:
        hit = _text(df, column).str.contains(rx, regex=True)
        return pd.Series(np.where(hit, label, None), index=df.index, dtype=object)

    return LabelingFunction(name or f"keyword_{'_'.join(keywords[:3])}", f)


def regex_lf(
    pattern: str,
    label: Any,
    *,
    column: str = "text",
    flags: int = re.IGNORECASE,
    name: str | None = None,
) -> LabelingFunction:
    """Vote ``label`` when ``column`` matches the regular expression ``pattern``."""
    try:
        rx = re.compile(pattern, flags)
    except re.error as exc:
        raise InputError(
            f"regex_lf: pattern {pattern!r} is not a valid regular expression: {exc}."
        ) from None

    def f(df: pd.DataFrame) -> pd.Series:
        with warnings.catch_warnings():  # pandas warns about match groups; only a match is needed
            warnings.filterwarnings(
                "ignore", message="This pattern is interpreted", category=UserWarning
            )
            hit = _text(df, column).str.contains(rx, regex=True)
        return pd.Series(np.where(hit, label, None), index=df.index, dtype=object)

    return LabelingFunction(name or f"regex_{pattern[:20]}", f)


def threshold_lf(
    column: str,
    label: Any,
    *,
    above: float | None = None,
    below: float | None = None,
    name: str | None = None,
) -> LabelingFunction:
    """Vote ``label`` when numeric ``column`` is > ``above`` and/or < ``below``."""
    if above is None and below is None:
        raise InputError("threshold_lf needs above= or below= (or both).")

    def f(df: pd.DataFrame) -> pd.Series:
        if column not in df.columns:
            raise InputError(f"no column {column!r}; the columns are {list(df.columns)[:20]!r}.")
        x = pd.to_numeric(df[column], errors="coerce")
        hit = x.notna()
        if above is not None:
            hit &= x > above
        if below is not None:
            hit &= x < below
        return pd.Series(np.where(hit, label, None), index=df.index, dtype=object)

    return LabelingFunction(name or f"threshold_{column}", f)


def _first_failing_row(lf: LabelingFunction, df: pd.DataFrame) -> tuple[int, Exception] | None:
    """The first row on which ``lf`` raises, found by bisection (O(log n) calls of ``lf``).

    Returns ``None`` when no single row fails alone (the rule fails only on a whole chunk).
    """

    def fails(lo: int, hi: int) -> Exception | None:
        try:
            lf(df.iloc[lo:hi])
        except Exception as exc:  # noqa: BLE001 - the user's rule failed: locate it
            return exc
        return None

    lo, hi = 0, len(df)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fails(lo, mid) is not None:
            hi = mid
        elif fails(mid, hi) is not None:
            lo = mid
        else:
            return None
    err = fails(lo, hi) if hi > lo else None
    return None if err is None else (lo, err)


def _run_lf(lf: LabelingFunction, df: pd.DataFrame, row0: int, ids: Any) -> pd.Series:
    """``lf(df)``; a rule that raises becomes one InputError naming it and the row."""
    try:
        return lf(df)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's rule failed: say where
        hit = _first_failing_row(lf, df)
        if hit is None:
            raise InputError(
                f"labeling function {lf.name!r} raised {type(exc).__name__}: {exc} (on the "
                f"{len(df)} rows from row {row0} together; on no single row alone)."
            ) from None
        row, err = hit
        item = "" if ids is None else f" (item {ids[row]!r})"
        raise InputError(
            f"labeling function {lf.name!r} raised {type(err).__name__}: {err} on row "
            f"{row0 + row}{item}; fix the rule (or make it return None there)."
        ) from None


def _apply_chunk(
    chunk: dict[str, np.ndarray],
    lo: int,
    hi: int,
    lfs: Sequence[LabelingFunction],
    book: dict[str, int],
    classes: Sequence[Any],
    item_column: str | None,
) -> np.ndarray | str:
    """Class codes of every LF on rows ``lo:hi``: shape (hi - lo, n_lfs), int16, -1 = abstain.

    The one implementation behind every engine (in memory = one chunk; Dask = one task
    per chunk). A rule's error comes back as a message string rather than an exception,
    so a Dask worker does not log a traceback for what is the user's bad input.
    """
    try:
        return _code_chunk(chunk, lo, hi, lfs, book, classes, item_column)
    except InputError as exc:
        return str(exc)


def _code_chunk(
    chunk: dict[str, np.ndarray],
    lo: int,
    hi: int,
    lfs: Sequence[LabelingFunction],
    book: dict[str, int],
    classes: Sequence[Any],
    item_column: str | None,
) -> np.ndarray:
    df = pd.DataFrame(chunk)
    ids = chunk[item_column] if item_column else None
    L = np.full((hi - lo, len(lfs)), -1, dtype=np.int16)
    for j, lf in enumerate(lfs):
        out = _run_lf(lf, df, lo, ids)
        # 1, 1.0 and "1" are one label (as in votes tables); coded per distinct value
        codes, uniq = pd.factorize(out, use_na_sentinel=True)
        keys, _ = _canonical(pd.Series(uniq, dtype=object))
        per_value = np.array([book.get(str(k), -2) for k in keys], dtype=np.int64)
        coded = np.where(codes >= 0, per_value[np.maximum(codes, 0)] if len(keys) else -1, -1)
        if (coded == -2).any():
            bad = sorted({str(u) for u, c in zip(uniq, per_value, strict=True) if c == -2})[:5]
            row = lo + int(np.flatnonzero(coded == -2)[0])
            raise InputError(
                f"labeling function {lf.name!r} returned labels {bad!r} (first on row {row}) that "
                f"are not among the classes {list(classes)[:20]!r}; return one of them or None "
                "to abstain."
            )
        L[:, j] = coded
    return L


def apply_lfs(
    df: pd.DataFrame,
    lfs: Sequence[LabelingFunction | Callable[[pd.DataFrame], Any]],
    *,
    classes: Sequence[Any],
    item_column: str | None = None,
    engine: Any = "local",
    chunk_rows: int = 100_000,
) -> VoteArrays:
    """Apply labeling functions to every row and code their votes.

    Parameters
    ----------
    df : DataFrame
    lfs : sequence of LabelingFunction (or plain callables ``f(df)``)
    classes : sequence
        The class list; each rule's non-abstain outputs must be among them.
    item_column : str, optional
        Item ids (default: the row number).
    engine : str or Engine, default "local"
        ``local`` runs the rules chunk after chunk in this process; ``dask`` (or a
        :class:`truelabel.scale.DaskEngine`) runs one task per chunk on a cluster. Both
        call the same function on each chunk and give the same votes.
    chunk_rows : int, default 100000
        Rows per chunk.

    Returns
    -------
    VoteArrays
        One source per labeling function, named after it; abstaining is informative
        (``info["abstain_informative"]``).

    Raises
    ------
    InputError
        A rule that raises (naming it and the first failing row), returns the wrong
        number of labels or a label outside ``classes``; repeated rule names.
    """
    from ..scale._engine import ChunkedArrays, make_engine

    if not lfs:
        raise InputError("pass at least one labeling function.")
    cls = list(classes)
    ckeys, _ = _canonical(pd.Series(cls, dtype=object))
    book = {str(k): i for i, k in enumerate(ckeys)}
    fns = [lf if isinstance(lf, LabelingFunction) else labeling_function(lf) for lf in lfs]
    names = [lf.name for lf in fns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"labeling functions need unique names; repeated: {dup!r}.")
    if item_column is not None:
        if item_column not in df.columns:
            raise InputError(
                f"no column {item_column!r}; the columns are {list(df.columns)[:20]!r}."
            )
        repeated = df[item_column].duplicated(keep="first").to_numpy()
        if repeated.any():
            row = int(np.flatnonzero(repeated)[0])
            raise InputError(
                f"column {item_column!r} repeats item id {df[item_column].iloc[row]!r} (row {row}"
                f", {int(repeated.sum())} repeated rows in all); item ids must be unique: "
                "deduplicate the table or leave the item column out to use row numbers."
            )
    df = df.reset_index(drop=True)
    if len(df) == 0:
        raise InputError("the table has no rows; nothing to label.")
    arrays: dict[str, Any] = {str(c): df[c].to_numpy() for c in df.columns}
    data = ChunkedArrays(arrays, chunk_rows=max(int(chunk_rows), 1))
    eng = make_engine(engine)
    try:
        parts = eng.map(_apply_chunk, data, fns, book, cls, item_column)
    finally:
        if eng is not engine:
            eng.close()
    failed = [p for p in parts if isinstance(p, str)]
    if failed:
        raise InputError(failed[0])
    L = np.concatenate(parts, axis=0).astype(np.int64)
    ids = df[item_column].tolist() if item_column else None
    return votes_from_matrix(L, classes=cls, item_ids=ids, source_names=names)


def lf_analysis(votes: VoteArrays, gold: Any = None) -> pd.DataFrame:
    """The labeling-function analysis table.

    Parameters
    ----------
    votes : VoteArrays
        From :func:`apply_lfs` or :func:`votes_from_matrix` (gold sources are skipped).
    gold : array-like of shape (n_items,), int, optional
        Gold class codes (-1 = unknown); adds ``correct``, ``incorrect`` and
        ``emp_accuracy``.

    Returns
    -------
    DataFrame
        One row per source: ``polarity`` (classes it votes), ``coverage`` (share of items
        it labels), ``overlaps`` (share of items it labels that another source also
        labels), ``conflicts`` (share it labels where another source votes a different
        class), ``n_votes``; with gold, ``correct``, ``incorrect``, ``emp_accuracy``.
    """
    g_all = votes.gold_labels()
    if gold is not None:
        ga = np.asarray(gold).astype(np.int64)
        if ga.shape != (votes.n_items,):
            raise InputError(f"gold has shape {ga.shape}; expected ({votes.n_items},).")
        g_all = np.where(ga >= 0, ga, g_all)
    v = votes.without_gold()
    n, s, k = votes.n_items, votes.n_sources, votes.n_classes
    per_item = np.bincount(v.item, minlength=n)
    # distinct classes voted per item
    cls_hit = np.bincount(v.item.astype(np.int64) * k + v.label, minlength=n * k).reshape(n, k) > 0
    n_distinct = cls_hit.sum(axis=1)
    overl = per_item[v.item] >= 2
    # conflict: another source on this item voted a class different from this vote
    conf = (n_distinct[v.item] >= 2) | ((n_distinct[v.item] == 1) & ~cls_hit[v.item, v.label])
    nv = np.bincount(v.source, minlength=s)
    pol = np.bincount(v.source.astype(np.int64) * k + v.label, minlength=s * k).reshape(s, k) > 0
    classes = list(votes.classes)
    table = pd.DataFrame(
        {
            "lf": [str(x) for x in votes.source_names],
            "polarity": [[classes[j] for j in np.flatnonzero(pol[i])] for i in range(s)],
            "coverage": nv / max(n, 1),
            "overlaps": np.bincount(v.source, overl.astype(float), minlength=s) / max(n, 1),
            "conflicts": np.bincount(v.source, conf.astype(float), minlength=s) / max(n, 1),
            "n_votes": nv,
        }
    )
    if (g_all >= 0).any():
        has = g_all[v.item] >= 0
        right = (g_all[v.item] == v.label) & has
        table["correct"] = np.bincount(v.source, right.astype(float), minlength=s).astype(np.int64)
        table["incorrect"] = np.bincount(
            v.source, (has & ~right).astype(float), minlength=s
        ).astype(np.int64)
        tot = table["correct"] + table["incorrect"]
        table["emp_accuracy"] = np.where(tot > 0, table["correct"] / np.maximum(tot, 1), np.nan)
    return table[~votes.is_gold_source].reset_index(drop=True)
