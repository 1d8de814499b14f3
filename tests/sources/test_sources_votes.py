"""Votes readers: coding, class names, and every bad-input case of issue 3."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from truelabel import InputError
from truelabel.sources import (
    VoteArrays,
    check_votes,
    votes_from_columns,
    votes_from_matrix,
    votes_from_table,
)


def _df(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item_id", "source", "label"])


def test_table_codes_items_sources_classes() -> None:
    v = votes_from_table(_df([("b", "w1", "pos"), ("a", "w1", "neg"), ("a", "w2", "pos")]))
    assert isinstance(v, VoteArrays)
    assert list(v.item_ids) == ["a", "b"]
    assert list(v.source_names) == ["w1", "w2"]
    assert list(v.classes) == ["neg", "pos"]
    assert v.item.dtype == np.int32 and v.label.dtype == np.int32
    frame = v.to_frame().sort_values(["item_id", "source"]).reset_index(drop=True)
    assert frame.values.tolist() == [["a", "w1", "neg"], ["a", "w2", "pos"], ["b", "w1", "pos"]]
    check_votes(v)


def test_numeric_classes_sort_numerically_and_match_strings() -> None:
    v = votes_from_table(_df([(1, "a", 10), (1, "b", 2), (2, "a", 2.0)]))
    assert list(v.classes) == [2, 10]
    # string gold "10" and "2" map onto the numeric classes
    gold = pd.DataFrame({"item_id": [1], "label": ["10"]})
    g = votes_from_table(_df([(1, "a", 10), (1, "b", 2)]), gold=gold).gold_labels()
    assert g.tolist() == [1]


def test_mixed_numeric_and_string_labels_refused() -> None:
    with pytest.raises(InputError, match="mix numbers .* and names"):
        votes_from_table(_df([(1, "a", 0), (2, "a", "positive")]))


def test_explicit_classes_and_unknown_label() -> None:
    v = votes_from_table(_df([(1, "a", "x")]), classes=["y", "x"])
    assert list(v.classes) == ["y", "x"] and v.label.tolist() == [1]
    with pytest.raises(InputError, match=r"not one of the 2 classes .*'z' \(1 rows\)"):
        votes_from_table(_df([(1, "a", "z")]), classes=["y", "x"])


def test_duplicate_votes_keep_last_and_warn_with_counts() -> None:
    df = _df([(1, "a", "x"), (1, "a", "y"), (1, "a", "y"), (2, "a", "x")])
    with pytest.warns(UserWarning, match=r"2 votes repeat .* \(1 pairs affected\); kept the last"):
        v = votes_from_table(df)
    assert v.n_votes == 2
    assert v.to_frame().set_index("item_id").loc[1, "label"] == "y"
    assert v.info["n_duplicate_votes"] == 2


def test_unknown_items_counted_and_refused_or_dropped() -> None:
    df = _df([(1, "a", "x"), (9, "a", "y"), (8, "b", "y")])
    with pytest.raises(
        InputError, match=r"2 votes are for 2 items that are not in the data.*--ignore-unknown"
    ):
        votes_from_table(df, items=[1, 2])
    v = votes_from_table(df, items=[1, 2], ignore_unknown=True)
    assert v.n_items == 2 and v.n_votes == 1
    assert v.info["n_unknown_item_votes"] == 2
    # item 2 has no votes but is kept
    assert v.votes_per_item().tolist() == [1, 0]


def test_items_given_as_strings_match_numeric_ids() -> None:
    v = votes_from_table(_df([(1, "a", "x")]), items=["1", "2"])
    assert v.item.tolist() == [0]


def test_gold_unseen_class_refused() -> None:
    gold = pd.DataFrame({"item_id": [1], "label": ["maybe"]})
    with pytest.raises(InputError, match=r"gold: labels 'maybe' \(1 items\) are not among"):
        votes_from_table(_df([(1, "a", "x"), (1, "b", "y")]), gold=gold)


def test_gold_becomes_gold_source() -> None:
    gold = pd.DataFrame({"q": [2], "t": ["y"]})
    v = votes_from_table(
        _df([(1, "a", "x"), (2, "a", "y")]), gold=gold, gold_item_column="q", gold_label_column="t"
    )
    assert v.is_gold_source.tolist() == [False, True]
    assert v.gold_labels().tolist() == [-1, 1]
    assert v.without_gold().n_votes == 2


def test_missing_column_message_names_columns() -> None:
    with pytest.raises(InputError, match=r"no column 'worker'.*--source-column"):
        votes_from_table(_df([(1, "a", "x")]), source_column="worker")


def test_empty_labels_are_abstentions() -> None:
    v = votes_from_table(_df([(1, "a", "x"), (2, "a", None), (2, "b", "")]))
    assert v.n_votes == 1 and v.info["n_empty_labels"] == 2


def test_matrix_with_abstain() -> None:
    L = np.array([[0, -1, 1], [-1, -1, -1], [1, 1, 1]])
    v = votes_from_matrix(L, classes=["ham", "spam"])
    assert v.n_items == 3 and v.n_sources == 3 and v.n_votes == 5
    assert list(v.source_names) == ["lf_0", "lf_1", "lf_2"]
    assert v.votes_per_item().tolist() == [2, 0, 3]
    with pytest.raises(InputError, match="codes outside 0..1"):
        votes_from_matrix(np.array([[2, 0]]), classes=["a", "b"])
    vg = votes_from_matrix(L, gold=np.array([1, -1, 0]))
    assert vg.is_gold_source.tolist() == [False, False, False, True]
    assert vg.gold_labels().tolist() == [1, -1, 0]


def test_columns_each_a_source() -> None:
    df = pd.DataFrame({"id": ["p", "q"], "w1": ["a", None], "w2": ["b", "a"], "truth": ["a", "a"]})
    v = votes_from_columns(df, ["w1", "w2"], item_column="id", gold_column="truth")
    assert list(v.item_ids) == ["p", "q"]
    assert v.without_gold().n_votes == 3
    assert v.gold_labels().tolist() == [0, 0]


def test_check_votes_rejects_bad_codes() -> None:
    v = votes_from_matrix(np.array([[0, 1]]))
    from dataclasses import replace

    bad = replace(v, label=np.array([0, 5], dtype=np.int32))
    with pytest.raises(InputError, match="outside"):
        check_votes(bad)
    with pytest.raises(InputError, match="must be a VoteArrays"):
        check_votes("votes.csv")


def test_reads_files(tmp_path: object) -> None:
    from pathlib import Path

    p = Path(str(tmp_path)) / "votes.csv"
    _df([(1, "a", "x"), (2, "b", "y")]).to_csv(p, index=False)
    v = votes_from_table(p)
    assert v.n_votes == 2
