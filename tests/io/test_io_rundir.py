"""The run directory is published atomically and never clobbers foreign folders."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from truelabel import InputError
from truelabel.io import RunDir, is_run_dir


def test_publishes_all_files_with_marker(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with RunDir(out, kind="audit") as run:
        run.write_parquet("t.parquet", pd.DataFrame({"a": [1, 2]}))
        run.write_json("summary.json", {"n": 2})
        assert not out.exists()  # nothing visible before the end
    assert is_run_dir(out)
    assert json.loads((out / "run.json").read_text())["kind"] == "audit"
    assert json.loads((out / "summary.json").read_text()) == {"n": 2}


def test_crash_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(RuntimeError), RunDir(out, kind="audit") as run:
        run.write_json("summary.json", {"n": 1})
        raise RuntimeError("boom")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind


def test_crash_keeps_previous_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with RunDir(out, kind="audit") as run:
        run.write_json("summary.json", {"v": 1})
    with pytest.raises(RuntimeError), RunDir(out, kind="audit") as run:
        run.write_json("summary.json", {"v": 2})
        raise RuntimeError("boom")
    assert json.loads((out / "summary.json").read_text()) == {"v": 1}


def test_previous_run_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "run"
    for v in (1, 2):
        with RunDir(out, kind="audit") as run:
            run.write_json("summary.json", {"v": v})
    assert json.loads((out / "summary.json").read_text()) == {"v": 2}


def test_foreign_folder_refused_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="not a truelabel run folder.*--overwrite"):
        RunDir(out, kind="audit")
    assert (out / "thesis.tex").exists()
    with RunDir(out, kind="audit", overwrite=True) as run:
        run.write_json("summary.json", {})
    assert not (out / "thesis.tex").exists()
