"""The large-table audit: outputs, Dask equality, resumption after an interrupt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scale_helpers import HashFeaturizer, word_table

import truelabel.featurize._api as featurize_api
from truelabel import InputError
from truelabel.scale import DaskEngine, audit_large
from truelabel.scale._stages import checkpoint_dir_for


@pytest.fixture(autouse=True)
def _hash_featurizer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(featurize_api.FEATURIZERS, "testhash", lambda **kw: HashFeaturizer())


@pytest.fixture(scope="module")
def table(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, np.ndarray, np.ndarray]]:
    df, y, given = word_table(900)
    path = tmp_path_factory.mktemp("data") / "d.parquet"
    df.to_parquet(path, row_group_size=256)
    yield path, y, given


def _flags(out: Path) -> np.ndarray:
    """``is_label_issue`` in row order (item ids are ``docN`` or row numbers)."""
    issues = pd.read_parquet(out / "issues.parquet")
    row = issues["item_id"].astype(str).str.removeprefix("doc").astype(int)
    return issues["is_label_issue"].to_numpy()[np.argsort(row.to_numpy())]


def test_large_audit_writes_the_audit_files(table, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, y, given = table
    res = audit_large(
        path,
        out=tmp_path / "run",
        label="label",
        text="text",
        id="id",
        featurizer="testhash",
        chunk_rows=400,
        progress=False,
    )
    # the in-memory audit's files and columns, whatever the engine
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == [
        "issues.parquet",
        "pred_probs.npy",
        "report.css",
        "report.html",
        "report.js",
        "run.json",
        "summary.json",
    ]
    issues = pd.read_parquet(tmp_path / "run" / "issues.parquet")
    assert len(issues) == 900 and set(issues["item_id"]) == {f"doc{i}" for i in range(900)}
    assert {"class_health", "class_imbalance", "noise_matrix"} <= set(res.summary)
    flags = _flags(tmp_path / "run")
    wrong = given != y
    # measured: precision 0.99, recall 0.95 on this table
    assert wrong[flags].mean() > 0.9 and flags[wrong].mean() > 0.8
    assert res.summary["counts"]["label_error"] == int(flags.sum())
    assert res.summary["settings"]["end_model"] == "logistic"
    assert res.summary["settings"]["model_plan"]["engine"] == "local"
    assert np.load(tmp_path / "run" / "pred_probs.npy").shape == (900, 3)
    assert not checkpoint_dir_for(tmp_path / "run").exists()  # cleaned after publishing


def test_dask_audit_equals_local(table, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _, _ = table
    audit_large(
        path,
        out=tmp_path / "local",
        label="label",
        text="text",
        featurizer="testhash",
        chunk_rows=400,
        progress=False,
    )
    eng = DaskEngine(n_workers=2, processes=False)
    try:
        audit_large(
            path,
            out=tmp_path / "dask",
            label="label",
            text="text",
            featurizer="testhash",
            chunk_rows=400,
            engine=eng,
            progress=False,
        )
    finally:
        eng.close()
    np.testing.assert_array_equal(_flags(tmp_path / "dask"), _flags(tmp_path / "local"))
    np.testing.assert_allclose(
        np.load(tmp_path / "dask" / "pred_probs.npy"),
        np.load(tmp_path / "local" / "pred_probs.npy"),
        atol=1e-5,
    )


def test_resume_skips_finished_stages(table, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path, _, _ = table
    out = tmp_path / "run"
    kw = dict(
        out=out, label="label", text="text", featurizer="testhash", chunk_rows=400, progress=False
    )
    with pytest.raises(RuntimeError, match="simulated interruption after stage 'crossfit'"):
        audit_large(path, _fail_after="crossfit", **kw)  # type: ignore[arg-type]
    assert not out.exists()  # nothing published
    assert (checkpoint_dir_for(out) / "crossfit" / "done.json").exists()

    calls: list[int] = []
    real = HashFeaturizer.transform

    def counting(self, texts):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(HashFeaturizer, "transform", counting)
    res = audit_large(path, resume=True, **kw)  # type: ignore[arg-type]
    assert res.resumed_stages == ["labels", "featurize", "crossfit"]
    assert calls == []  # featurization was not redone
    fresh = audit_large(
        path,
        out=tmp_path / "fresh",
        label="label",
        text="text",
        featurizer="testhash",
        chunk_rows=400,
        progress=False,
    )
    np.testing.assert_array_equal(_flags(out), _flags(fresh.out))


def test_given_probabilities_and_incremental_learner(table, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, y, given = table
    res = audit_large(
        path,
        out=tmp_path / "inc",
        label="label",
        text="text",
        featurizer="testhash",
        learner="incremental",
        chunk_rows=300,
        progress=False,
    )
    assert res.summary["settings"]["end_model"] == "incremental"
    flags = _flags(tmp_path / "inc")
    wrong = given != y
    assert wrong[flags].mean() > 0.8 and flags[wrong].mean() > 0.7
    probs = np.load(tmp_path / "inc" / "pred_probs.npy")
    np.save(tmp_path / "p.npy", probs)
    again = audit_large(
        path,
        out=tmp_path / "given",
        label="label",
        pred_probs=tmp_path / "p.npy",
        max_memory="64MB",
        progress=False,
    )
    # given probabilities: the in-memory audit's filter and flags
    from truelabel.audit import audit

    memory = audit(pd.read_parquet(path), label="label", pred_probs=probs)
    expected = memory.issues.sort_values("item_id")["is_label_issue"].to_numpy()
    np.testing.assert_array_equal(_flags(again.out), expected)


def test_large_audit_bad_input(table, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _, _ = table
    with pytest.raises(InputError, match="no column 'nope'; the columns are"):
        audit_large(path, out=tmp_path / "x", label="nope", text="text")
    with pytest.raises(InputError, match="a text column is required"):
        audit_large(path, out=tmp_path / "x", label="label")
    np.save(tmp_path / "bad.npy", np.full((10, 3), 1 / 3, dtype=np.float32))
    with pytest.raises(InputError, match=r"has shape \(10, 3\) but the data has 900 rows"):
        audit_large(path, out=tmp_path / "x", label="label", pred_probs=tmp_path / "bad.npy")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not a truelabel run folder"):
        audit_large(path, out=tmp_path / "busy", label="label", text="text")
    ck = checkpoint_dir_for(tmp_path / "r")
    ck.mkdir()
    (ck / "fingerprint.json").write_text('{"fingerprint": "written-for-other-options"}')
    with pytest.raises(InputError, match="cannot resume"):
        audit_large(
            path, out=tmp_path / "r", label="label", text="text", featurizer="testhash", resume=True
        )


def test_every_engine_writes_the_in_memory_audit(table, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Same flagged set, files, columns and summary keys as ``truelabel.audit`` in memory."""
    from truelabel.audit import audit

    path, _, _ = table
    memory = audit(path, label="label", text="text", id="id", featurizer="testhash")
    memory.save(tmp_path / "memory")
    eng = DaskEngine(n_workers=2, processes=False)
    try:
        runs = {
            name: audit_large(
                path,
                out=tmp_path / name,
                label="label",
                text="text",
                id="id",
                featurizer="testhash",
                chunk_rows=400,
                engine=e,
                progress=False,
            )
            for name, e in (("local", "local"), ("dask", eng))
        }
    finally:
        eng.close()
    want = set(memory.issues.loc[memory.issues["is_label_issue"], "item_id"])
    assert len(want) > 20
    files = sorted(p.name for p in (tmp_path / "memory").iterdir())
    for name, res in runs.items():
        issues = pd.read_parquet(tmp_path / name / "issues.parquet")
        assert set(issues.loc[issues["is_label_issue"], "item_id"]) == want, name
        assert list(issues.columns) == list(memory.issues.columns), name
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == files, name
        assert sorted(res.summary) == sorted(memory.summary), name
        assert res.summary["noise_rate"] == pytest.approx(memory.summary["noise_rate"], abs=1e-9)
        assert res.summary["settings"]["model_plan"]["engine"] == name
