"""max_memory parsing, chunked table reading, the memory-mapped feature store, stages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from truelabel import InputError
from truelabel.scale import FeatureStore
from truelabel.scale._chunks import count_rows, iter_table_chunks, table_columns
from truelabel.scale._memory import chunk_rows_for, parse_memory
from truelabel.scale._stages import StageRunner


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4GB", 4_000_000_000),
        ("512MiB", 512 * 1024**2),
        ("1.5 gb", 1_500_000_000),
        (2_000_000, 2_000_000),
        ("3000000", 3_000_000),
    ],
)
def test_parse_memory(text: str | int, expected: int) -> None:
    assert parse_memory(text) == expected


@pytest.mark.parametrize("bad", ["lots", "4 parsecs", "-3GB", "10KB", True])
def test_parse_memory_refuses(bad: object) -> None:
    with pytest.raises(InputError, match="max_memory"):
        parse_memory(bad)  # type: ignore[arg-type]


def test_chunk_rows_scale_with_budget() -> None:
    # 1 GB budget, a quarter for one chunk, 1,000 bytes a row -> 250,000 rows
    assert chunk_rows_for(1_000_000_000, 1_000) == 250_000
    assert chunk_rows_for(10_000_000, 10**9) == 1_024  # clamped to min_rows


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_iter_table_chunks_keeps_order_and_row_numbers(tmp_path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame({"text": [f"t{i}" for i in range(1000)], "label": np.arange(1000) % 3})
    path = tmp_path / f"d{suffix}"
    if suffix == ".parquet":
        df.to_parquet(path, row_group_size=128)
    elif suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_json(path, orient="records", lines=True)
    chunks = list(iter_table_chunks(path, columns=["text", "label"], chunk_rows=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    back = pd.concat(chunks)
    assert back.index.tolist() == list(range(1000))
    assert back["text"].tolist() == df["text"].tolist()
    assert count_rows(path) == 1000
    assert table_columns(path) == ["text", "label"]
    with pytest.raises(InputError, match="column\\(s\\) 'nope' not found"):
        next(iter_table_chunks(path, columns=["nope"]))


def test_feature_store_resumes_finished_chunks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "X.npy"
    store = FeatureStore.create(path, 10, 3)
    store.write(0, np.ones((4, 3), dtype=np.float32))
    assert store.is_done(0, 4) and not store.complete
    again = FeatureStore.create(path, 10, 3)  # same shape: reopened, progress kept
    assert again.is_done(0, 4)
    again.write(4, np.full((6, 3), 2, dtype=np.float32))
    assert again.complete
    X = FeatureStore.open(path).array
    assert X.shape == (10, 3) and float(X[5, 0]) == 2.0
    assert isinstance(np.load(path, mmap_mode="r"), np.memmap)
    with pytest.raises(InputError, match="holds 3 columns"):
        again.write(0, np.ones((2, 4), dtype=np.float32))
    with pytest.raises(InputError, match="outside the store"):
        again.write(9, np.ones((2, 3), dtype=np.float32))


def test_stage_runner_resumes_after_an_interrupt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def first(advance):  # type: ignore[no-untyped-def]
        calls.append("first")
        advance(1)
        return {"x": np.arange(5), "note": "ok"}

    def failing(advance):  # type: ignore[no-untyped-def]
        raise RuntimeError("killed")

    quiet = False
    runner = StageRunner(tmp_path / "ck", fingerprint="abc", progress=quiet)
    runner.run("first", first, total=1)
    with pytest.raises(RuntimeError, match="killed"):
        runner.run("second", failing)
    resumed = StageRunner(tmp_path / "ck", fingerprint="abc", resume=True, progress=quiet)
    out = resumed.run("first", first)
    assert calls == ["first"] and resumed.resumed == ["first"]
    np.testing.assert_array_equal(out["x"], np.arange(5))
    assert out["note"] == "ok"
    assert resumed.run("second", lambda advance: {"y": 1})["y"] == 1
    with pytest.raises(InputError, match="different input or different options"):
        StageRunner(tmp_path / "ck", fingerprint="other", resume=True, progress=quiet)
    fresh = StageRunner(tmp_path / "ck", fingerprint="other", progress=quiet)
    assert not fresh.is_done("first")
