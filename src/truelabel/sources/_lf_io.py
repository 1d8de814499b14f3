"""Loading labeling functions from a Python file and analysing them on a table."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ._lf import LabelingFunction, apply_lfs, lf_analysis
from ._votes import VoteArrays, votes_from_columns
from ._wrench import is_wrench_file, read_wrench

__all__ = ["LFVotes", "analyze_lfs", "load_lf_file", "read_lf_votes", "votes_table"]


def load_lf_file(path: str | Path) -> tuple[list[LabelingFunction], list[Any] | None]:
    """Import a Python file and collect its labeling functions (in definition order).

    The file defines module-level :class:`LabelingFunction` objects (made with
    ``@labeling_function`` or the helpers) and, optionally, ``CLASSES = [...]``.

    Returns
    -------
    (lfs, classes or None)
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--lfs {p}: no such file.")
    name = f"_truelabel_lfs_{abs(hash(str(p.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise InputError(f"--lfs {p}: not an importable Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file failed: say where
        raise InputError(f"--lfs {p}: importing it raised {type(exc).__name__}: {exc}") from None
    finally:
        sys.modules.pop(name, None)
    lfs = [v for v in vars(module).values() if isinstance(v, LabelingFunction)]
    if not lfs:
        raise InputError(
            f"--lfs {p} defines no labeling functions; decorate functions with "
            "@truelabel.sources.labeling_function or build them with keyword_lf/regex_lf."
        )
    classes = getattr(module, "CLASSES", None)
    return lfs, list(classes) if classes is not None else None


@dataclass
class LFVotes:
    """Votes of labeling functions on one data set, with what came with them.

    Attributes
    ----------
    votes : VoteArrays
        One source per labeling function; abstaining is informative.
    gold : ndarray of shape (n_items,), int64, optional
        Gold class codes (-1 = none) from a WRENCH split's labels or ``gold_column``.
    data : DataFrame
        The items (WRENCH ``data`` fields, or the table the rules ran on), one row per item.
    kind : str
        ``wrench``, ``lfs`` (rules applied) or ``columns`` (one column of votes per LF).
    """

    votes: VoteArrays
    gold: np.ndarray | None
    data: pd.DataFrame
    kind: str


def read_lf_votes(
    data: str | Path | pd.DataFrame,
    *,
    lfs: str | Path | None = None,
    columns: list[str] | None = None,
    abstain: Any = -1,
    gold_column: str | None = None,
    classes: list[Any] | None = None,
    item_column: str | None = None,
    engine: Any = "local",
) -> LFVotes:
    """Labeling-function votes from any of the three inputs (the one reader of LF data).

    - a WRENCH split (``.json`` with ``weak_labels``): its LFs, gold from ``label``;
    - a table plus ``lfs``, a Python file defining labeling functions (and ``CLASSES``),
      applied to every row (vectorised; on Dask with ``engine="dask"``);
    - a wide table whose ``columns`` each hold one LF's votes (``abstain`` = no vote).

    Parameters
    ----------
    data : path or DataFrame
    lfs : path, optional
    columns : list of str, optional
    abstain : scalar
        Abstain value in ``columns`` (empty cells always abstain).
    gold_column : str, optional
        Gold labels in ``data``.
    classes : list, optional
        Class list (else ``CLASSES`` from the LF file, or the labels seen).
    item_column : str, optional
        Item ids in ``data`` (default: the row number).
    engine : str or Engine
        Where the rules run (:func:`truelabel.sources.apply_lfs`).

    Returns
    -------
    LFVotes
    """
    if not isinstance(data, pd.DataFrame) and is_wrench_file(data):
        if lfs is not None or columns:
            raise InputError(
                f"{data} is a WRENCH split: its labeling functions' votes are in the file; "
                "drop --lfs/--columns."
            )
        split = read_wrench(data)
        gold = split.gold if (split.gold >= 0).any() else None
        return LFVotes(split.votes(), gold, split.data, "wrench")
    from ..io import read_table

    df = read_table(data)
    if item_column is not None and item_column not in df.columns:
        raise InputError(
            f"no item id column {item_column!r}; the columns are {list(df.columns)[:20]!r}."
        )
    if lfs is not None:
        fns, file_classes = load_lf_file(lfs)
        cls = classes or file_classes
        if cls is None:
            if gold_column is None:
                raise InputError(
                    "the class list is unknown: set CLASSES = [...] in the LF file, or pass "
                    "--classes or --gold-column."
                )
            if gold_column not in df.columns:
                raise InputError(
                    f"no column {gold_column!r}; the columns are {list(df.columns)[:20]!r}."
                )
            cls = sorted(df[gold_column].dropna().astype(str).unique().tolist())
        votes = apply_lfs(df, fns, classes=cls, item_column=item_column, engine=engine)
        kind = "lfs"
    elif columns:
        votes = votes_from_columns(
            df, columns, classes=classes, abstain=abstain, item_column=item_column
        )
        kind = "columns"
    else:
        raise InputError(
            "pass --lfs FILE.py (labeling functions to apply) or --columns (one column of "
            "votes per labeling function), or a WRENCH .json split."
        )
    gold = None
    if gold_column is not None:
        if gold_column not in df.columns:
            raise InputError(
                f"no column {gold_column!r}; the columns are {list(df.columns)[:20]!r}."
            )
        book = {str(c): i for i, c in enumerate(votes.classes)}
        g = df[gold_column].astype(str).map(book)
        unknown = df[gold_column].notna() & g.isna()
        if unknown.any():
            bad = sorted(set(df.loc[unknown, gold_column].astype(str)))[:5]
            raise InputError(
                f"gold column {gold_column!r} has labels {bad!r} outside the classes "
                f"{list(votes.classes)[:20]!r}; fix them or pass --classes listing every class."
            )
        gold = g.fillna(-1).to_numpy(dtype=np.int64)
    return LFVotes(votes, gold, df, kind)


def analyze_lfs(
    data: str | Path | pd.DataFrame,
    *,
    lfs: str | Path | None = None,
    columns: list[str] | None = None,
    abstain: Any = -1,
    gold_column: str | None = None,
    classes: list[Any] | None = None,
) -> tuple[pd.DataFrame, VoteArrays]:
    """The labeling-function analysis table for one data file.

    Reads the data with :func:`read_lf_votes` (WRENCH split, table + LF file, or one
    column per LF) and tabulates coverage, overlap, conflict, polarity and, with gold,
    empirical accuracy.

    Returns
    -------
    (table, votes)
    """
    lv = read_lf_votes(
        data, lfs=lfs, columns=columns, abstain=abstain, gold_column=gold_column, classes=classes
    )
    return lf_analysis(lv.votes, lv.gold), lv.votes


def votes_table(votes: VoteArrays) -> pd.DataFrame:
    """The long votes table ``(item_id, source, label)`` of LF votes, marked as such.

    ``attrs["truelabel"]`` records that abstaining is informative and the class list,
    and survives a Parquet round trip, so ``truelabel aggregate votes.parquet`` models
    the votes as labeling-function votes (as ``aggregate --lfs`` does). Items no rule
    labelled get one row with an empty label, so they stay items.
    """
    df = votes.without_gold().to_frame()
    silent = np.flatnonzero(votes.without_gold().votes_per_item() == 0)
    if len(silent):  # one empty row per item no rule labelled keeps it an item
        rows = pd.DataFrame(
            {
                "item_id": votes.item_ids[silent],
                "source": votes.source_names[~votes.is_gold_source][0],
                "label": [None] * len(silent),
            }
        )
        df = pd.concat([df, rows], ignore_index=True)
        if pd.api.types.infer_dtype(df["label"], skipna=True) == "integer":
            df["label"] = df["label"].astype("Int64")  # 1, not 1.0, beside the empty rows
    df.attrs["truelabel"] = {
        "abstain_informative": bool(votes.info.get("abstain_informative", False)),
        "classes": [c.item() if isinstance(c, np.generic) else c for c in votes.classes],
    }
    return df
