"""Loading and validation: every bad-input case names the column/rows and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from truelabel import InputError
from truelabel.io import encode_labels, load_dataset, read_table


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "text": ["one", "two", "three", "four"],
            "y": ["x", "y", "x", "y"],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_reads_every_format_the_same(tmp_path: Path, table: pd.DataFrame, suffix: str) -> None:
    p = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        table.to_csv(p, index=False)
    elif suffix == ".tsv":
        table.to_csv(p, sep="\t", index=False)
    elif suffix == ".jsonl":
        table.to_json(p, orient="records", lines=True)
    else:
        table.to_parquet(p)
    ds = load_dataset(p, text_column="text", label_column="y", id_column="id")
    assert list(ds.item_id) == ["a", "b", "c", "d"]
    assert ds.classes == ["x", "y"]
    np.testing.assert_array_equal(ds.labels, [0, 1, 0, 1])
    assert list(ds.text) == ["one", "two", "three", "four"]


def test_item_id_defaults_to_row_number(table: pd.DataFrame) -> None:
    ds = load_dataset(table, text_column="text", label_column="y")
    np.testing.assert_array_equal(ds.item_id, [0, 1, 2, 3])


def test_missing_file() -> None:
    with pytest.raises(InputError, match="no such file"):
        read_table("does/not/exist.csv")


def test_unknown_format(tmp_path: Path) -> None:
    p = tmp_path / "data.xlsx"
    p.write_text("x")
    with pytest.raises(InputError, match="cannot tell the file format"):
        read_table(p)


def test_missing_column_lists_existing(table: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=r"no column 'label'; the columns are: 'id', 'text', 'y'"):
        load_dataset(table, text_column="text", label_column="label")


def test_misencoded_file(tmp_path: Path) -> None:
    """Non-UTF-8 text is read as Windows-1252 with a note (tests/io/test_io_readers.py);
    bytes that are no text at all are refused."""
    p = tmp_path / "latin.csv"
    p.write_bytes("text,y\ncaf\xe9,x\n".encode("latin-1"))
    assert read_table(p)["text"].tolist() == ["café"]
    p.write_bytes(b"text,y\n\x00\x81\x8d\x8f\x90\x9d\x00\x01,x\n")
    with pytest.raises(InputError):
        read_table(p)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_table(p)


def test_header_only_is_empty_table(tmp_path: Path) -> None:
    p = tmp_path / "header.csv"
    p.write_text("text,y\n")
    with pytest.raises(InputError, match="no rows"):
        read_table(p)


def test_missing_labels_counted_and_droppable(table: pd.DataFrame) -> None:
    table.loc[[1, 3], "y"] = None
    with pytest.raises(
        InputError,
        match=r"2 of 4 rows have no value in label column 'y' \(rows 1, 3\).*--drop-missing",
    ):
        load_dataset(table, text_column="text", label_column="y")
    ds = load_dataset(table, text_column="text", label_column="y", drop_missing=True)
    assert len(ds) == 2
    np.testing.assert_array_equal(ds.item_id, [0, 2])  # row numbers of the input survive
    np.testing.assert_array_equal(ds.dropped_rows, [1, 3])


def test_duplicate_ids(table: pd.DataFrame) -> None:
    table.loc[2, "id"] = "a"
    with pytest.raises(InputError, match=r"duplicate values \(e.g. 'a' on rows 0, 2\)"):
        load_dataset(table, text_column="text", label_column="y", id_column="id")


@pytest.mark.parametrize("bad", ["", "   ", None])
def test_empty_text(table: pd.DataFrame, bad: str | None) -> None:
    table.loc[2, "text"] = bad
    with pytest.raises(InputError, match=r"empty or whitespace on 1 rows \(rows 2\)"):
        load_dataset(table, text_column="text", label_column="y")


def test_ragged_vectors(table: pd.DataFrame) -> None:
    table["v"] = [[1.0, 2.0], [1.0, 2.0], [1.0], [0.0, 1.0]]
    with pytest.raises(InputError, match="row 2 has length 1 but row 0 has 2"):
        load_dataset(table, vectors_column="v", label_column="y")


def test_vectors_from_strings(table: pd.DataFrame) -> None:
    table["v"] = ["[1, 2]", "[3, 4]", "[5, 6]", "[7, 8]"]
    ds = load_dataset(table, vectors_column="v", label_column="y")
    assert ds.vectors is not None and ds.vectors.dtype == np.float32
    np.testing.assert_array_equal(ds.vectors[2], [5, 6])


def test_numeric_labels_keep_their_type() -> None:
    codes, classes = encode_labels(np.array([3, 1, 3, 2]))
    assert classes == [1, 2, 3]
    np.testing.assert_array_equal(codes, [2, 0, 2, 1])


def test_encode_against_known_classes_rejects_unknown() -> None:
    with pytest.raises(InputError, match="'z' is not one of the 2 classes"):
        encode_labels(np.array(["x", "z"]), classes=["x", "y"])
