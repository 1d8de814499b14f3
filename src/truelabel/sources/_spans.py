"""Span votes: each source's character spans over a text become one tag vote per token.

A span-votes table has one row per span a source marked: ``item_id, source, start, end,
label`` (character offsets, end exclusive). A source that looked at an item and marked
nothing is a row with empty ``start``/``end``. Every source that saw an item (any row
for it) votes a tag for *every* token of the item: ``B-``/``I-`` inside its spans, ``O``
elsewhere — not marking a token is an answer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from ..io._tokens import (
    TokenDataset,
    _ranges,
    char_spans_to_token_spans,
    spans_to_tags,
    tag_names_for,
    tokenize_with_offsets,
)
from ._votes import VoteArrays

__all__ = ["SpanVotes", "span_votes_from_table"]


@dataclass
class SpanVotes:
    """Token tag votes built from span votes.

    Attributes
    ----------
    tokens : TokenDataset
        The tokenized items (one sentence per item, no tags).
    votes : VoteArrays
        Items are tokens (global index), classes are the IOB2 tags ``tag_names``.
    """

    tokens: TokenDataset
    votes: VoteArrays


def span_votes_from_table(
    votes: str | Path | pd.DataFrame,
    data: str | Path | pd.DataFrame,
    *,
    item_column: str = "item_id",
    source_column: str = "source",
    start_column: str = "start",
    end_column: str = "end",
    label_column: str = "label",
    data_item_column: str | None = None,
    text_column: str = "text",
    gold_sources: Collection[str] = (),
) -> SpanVotes:
    """Read span votes and the items' texts; code one tag vote per (token, source).

    Parameters
    ----------
    votes : path or DataFrame
        One row per marked span (``item_column, source_column, start_column,
        end_column, label_column``); rows with empty start/end mean "saw the item,
        marked nothing".
    data : path or DataFrame
        One row per item with ``data_item_column`` (default ``item_column``) and
        ``text_column``.
    gold_sources : collection of str
        Sources whose spans are gold (``VoteArrays.is_gold_source``: clamped).

    Returns
    -------
    SpanVotes

    Raises
    ------
    InputError
        Missing columns, unknown items, spans outside their text (named by row).
    """
    from ..io import read_table

    vname = Path(votes).name if isinstance(votes, str | Path) else "votes"
    dname = Path(data).name if isinstance(data, str | Path) else "data"
    vt = read_table(votes)
    dt = read_table(data)
    id_col = data_item_column or item_column
    for name, df, cols in (
        (dname, dt, [id_col, text_column]),
        (vname, vt, [item_column, source_column, start_column, end_column, label_column]),
    ):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise InputError(
                f"{name}: missing column(s) {missing} (columns: {list(df.columns)[:20]}); span "
                "votes need a votes table (item_id, source, start, end, label) and a data table "
                "(item_id, text); name other columns with --item-column, --source-column, "
                "--data-item-column, --text-column."
            )
    ids = dt[id_col].astype(str)
    if ids.duplicated().any():
        raise InputError(f"{dname}: item id {ids[ids.duplicated()].iloc[0]!r} appears twice.")
    texts = dt[text_column].fillna("").astype(str).tolist()
    tokens, offsets, cs, ce = tokenize_with_offsets(texts)
    n_items = len(texts)
    item = pd.Index(ids).get_indexer(pd.Index(vt[item_column].astype(str)))
    if (item < 0).any():
        r = int(np.flatnonzero(item < 0)[0])
        raise InputError(
            f"{vname} row {r}: item {vt[item_column].iloc[r]!r} is not in {dname}; every voted "
            "item needs its text in --data."
        )
    src_names, src = np.unique(vt[source_column].astype(str).to_numpy(), return_inverse=True)
    start = pd.to_numeric(vt[start_column], errors="coerce").to_numpy()
    end = pd.to_numeric(vt[end_column], errors="coerce").to_numpy()
    empty = np.isnan(start) & np.isnan(end)
    lens = np.array([len(t) for t in texts], dtype=np.int64)[item]
    bad = ~empty & (np.isnan(start) | np.isnan(end) | (start < 0) | (end <= start) | (end > lens))
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{vname} row {r}: span [{start[r]:g}, {end[r]:g}) does "
            f"not fit item {vt[item_column].iloc[r]!r} ({int(lens[r])} characters); offsets are "
            "0-based characters, start < end <= len(text); leave both empty for 'no span'."
        )
    labels = vt[label_column].astype(str).str.strip().to_numpy()
    types = sorted(set(labels[~empty].tolist()))
    if not types:
        raise InputError(f"{vname}: no spans at all; nothing to aggregate.")
    tag_names = tag_names_for(types)
    # one block of tag votes per (item, source) pair that saw the item
    pair_codes = item.astype(np.int64) * len(src_names) + src
    pairs, pair_of_row = np.unique(pair_codes, return_inverse=True)
    p_item = pairs // len(src_names)
    p_src = pairs % len(src_names)
    p_len = np.diff(offsets)[p_item]
    base = np.zeros(len(pairs) + 1, dtype=np.int64)
    np.cumsum(p_len, out=base[1:])
    vote_tok = _ranges(offsets[:-1][p_item], p_len)
    vote_src = np.repeat(p_src, p_len)
    # spans -> token ranges -> positions in the pair blocks
    keep = np.flatnonzero(~empty)
    first, last = char_spans_to_token_spans(
        item[keep], start[keep].astype(np.int64), end[keep].astype(np.int64), offsets, cs, ce
    )
    ok = last > first
    keep, first, last = keep[ok], first[ok], last[ok]
    shift = base[pair_of_row[keep]] - offsets[:-1][item[keep]]
    tcode = np.searchsorted(np.asarray(types, dtype=object), labels[keep])
    order = np.argsort(first + shift, kind="stable")  # later spans overwrite earlier ones
    vote_tag = spans_to_tags(
        (first + shift)[order], (last + shift)[order], tcode[order], int(base[-1])
    )
    va = VoteArrays(
        item=vote_tok.astype(np.int32),
        source=vote_src.astype(np.int32),
        label=vote_tag.astype(np.int32),
        n_items=int(len(tokens)),
        n_sources=len(src_names),
        n_classes=len(tag_names),
        item_ids=np.arange(len(tokens)),
        source_names=src_names.astype(object),
        classes=np.asarray(tag_names, dtype=object),
        is_gold_source=np.isin(src_names.astype(str), np.asarray(list(gold_sources), dtype=str)),
    )
    ds = TokenDataset(
        tokens=tokens,
        offsets=offsets,
        tags=None,
        tag_names=tag_names,
        doc=np.arange(n_items, dtype=np.int64),
        item_ids=ids.to_numpy(dtype=object),
        texts=np.asarray(texts, dtype=object),
        char_start=cs,
        char_end=ce,
        scheme="spans",
        name=dname,
    )
    return SpanVotes(tokens=ds, votes=va)
