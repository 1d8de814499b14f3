"""Positive-unlabeled learning: prior estimators (hand-checked), nnPU on real Mushroom, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _weak_data import mushroom
from truelabel._errors import InputError
from truelabel.cli import app
from truelabel.featurize import featurize_table
from truelabel.learn import PUClassifier, bbe_prior, elkan_noto_prior


def test_bbe_finds_the_pure_top_bin() -> None:
    # 100 labeled positives score 0.9; unlabeled: 100 positives at 0.9, 300 negatives at 0.1.
    # Above 0.5: q_P = 1, q_U = 100/400 = 0.25, so alpha = 0.25 of U are positive and
    # prior = (100 + 0.25 * 400) / 500 = 0.4 (the finite-sample penalty does not move
    # the argmin here).
    s = np.r_[np.full(100, 0.9), np.full(100, 0.9), np.full(300, 0.1)]
    lab = np.r_[np.ones(100, bool), np.zeros(400, bool)]
    assert bbe_prior(s, lab) == pytest.approx(0.4)


def test_elkan_noto_divides_the_labeled_share_by_c() -> None:
    # c = mean score of the labeled = 0.5; labeled share = 0.2 -> prior 0.4.
    s = np.r_[np.full(20, 0.5), np.full(80, 0.1)]
    lab = np.r_[np.ones(20, bool), np.zeros(80, bool)]
    assert elkan_noto_prior(s, lab) == pytest.approx(0.4)


def test_prior_estimators_refuse_no_unlabeled_rows() -> None:
    with pytest.raises(InputError, match="needs labeled positives and unlabeled rows"):
        bbe_prior(np.ones(3), np.ones(3, bool))


def test_nnpu_on_mushroom_recovers_prior_and_accuracy() -> None:
    frame, y = mushroom(n=3000)
    X, tab = featurize_table(frame)
    rng = np.random.default_rng(0)
    s = (y == 1) & (rng.random(len(y)) < 0.3)
    m = PUClassifier(random_state=0).fit(X, s.astype(int))
    # measured: prior 0.481 vs true 0.482 on the full set (benchmarks/bench_weak_pu.py)
    assert abs(m.class_prior_ - y.mean()) < 0.04
    acc = float((m.predict(X) == y).mean())
    naive = float(((s.astype(int)) == y).mean())
    assert acc > 0.95 > naive  # measured 0.99 (naive "unlabeled = negative": 0.62)


def test_pu_classifier_checks_y_and_prior() -> None:
    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    with pytest.raises(InputError, match="1 for a labeled positive"):
        PUClassifier().fit(X, np.r_[np.full(10, 2), np.zeros(10)])
    with pytest.raises(InputError, match="below the share of labeled positives"):
        PUClassifier(prior=0.1).fit(X, np.r_[np.ones(10), np.zeros(10)])


@pytest.fixture(scope="module")
def pu_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    frame, y = mushroom(n=2000, seed=1)
    rng = np.random.default_rng(1)
    train, test = frame.iloc[:1500].copy(), frame.iloc[1500:].copy()
    lab = np.where((y[:1500] == 1) & (rng.random(1500) < 0.4), "1", "")
    train.insert(0, "poisonous", lab)
    d = tmp_path_factory.mktemp("pu")
    train.to_csv(d / "train.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    return d / "train.csv", d / "test.csv", y[1500:]


def test_cli_pu_contract(pu_files: tuple[Path, Path, np.ndarray], tmp_path: Path) -> None:
    train, test, y_test = pu_files
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "train", str(train), "--label-column", "poisonous", "--positive-label", "1",
            "--pu", "--feature-columns", "auto", "--out", str(tmp_path / "m"),
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert abs(meta["class_prior"] - 0.48) < 0.06  # the 1500 rows are ~48% poisonous
    assert meta["supervision"] == "pu"
    assert meta["featurizer"]["name"] == "tabular"
    r = runner.invoke(
        app,
        [
            "predict", str(tmp_path / "m"), str(test), "--feature-columns", "auto",
            "--out", str(tmp_path / "preds.parquet"),
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    preds = pd.read_parquet(tmp_path / "preds.parquet")
    assert {"p_0", "p_1", "label"} <= set(preds.columns)
    assert float(((preds["p_1"] > 0.5).astype(int) == y_test).mean()) > 0.95


def test_cli_pu_bad_positive_label_is_one_line(
    pu_files: tuple[Path, Path, np.ndarray], tmp_path: Path
) -> None:
    train, _, _ = pu_files
    r = CliRunner().invoke(
        app,
        [
            "train", str(train), "--label-column", "poisonous", "--positive-label", "yes",
            "--pu", "--feature-columns", "auto", "--out", str(tmp_path / "m"),
        ],
    )  # fmt: skip
    assert r.exit_code != 0
    assert "--positive-label 'yes'" in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "m").exists()


def test_served_pu_model_takes_table_rows(
    pu_files: tuple[Path, Path, np.ndarray], tmp_path: Path
) -> None:
    import httpx

    from _shared import serve_in_thread
    from truelabel.learn import create_app, train_weak_model

    train, test, y_test = pu_files
    tm = train_weak_model(
        train, mode="pu", label_column="poisonous", feature_columns="auto", epochs=10
    )
    tm.save(tmp_path / "m")
    rows = pd.read_csv(test).head(20).to_dict(orient="records")
    with serve_in_thread(create_app(tmp_path / "m")) as url:
        r = httpx.post(f"{url}/predict", json={"rows": rows}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["alpha"] is None  # no conformal calibration without labeled negatives
    labels = [p["label"] for p in body["predictions"]]
    assert np.mean(np.asarray(labels) == y_test[:20].astype(str)) >= 0.9
    assert all(p["prediction_set"] == [p["label"]] for p in body["predictions"])
