"""`truelabel train`, `truelabel predict`, `truelabel serve-model` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from truelabel.cli import app

runner = CliRunner()


def _csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    words = {"a": ["red", "green", "blue", "pink"], "b": ["cat", "dog", "cow", "pig"]}
    y = rng.integers(0, 2, 120)
    names = ["a", "b"]
    df = pd.DataFrame(
        {
            "sku": [f"s{i}" for i in range(120)],
            "body": [" ".join(rng.choice(words[names[c]], 3)) for c in y],
            "cls": [names[c] for c in y],
        }
    )
    p = tmp_path / "items.csv"
    df.to_csv(p, index=False)
    return p


def test_train_then_predict(tmp_path: Path) -> None:
    data = _csv(tmp_path)
    res = runner.invoke(
        app,
        [
            "train",
            str(data),
            "--text-column",
            "body",
            "--label-column",
            "cls",
            "--featurizer",
            "tfidf",
            "--loss",
            "gce",
            "--scheme",
            "smallloss",
            "--epochs",
            "8",
            "--seed",
            "3",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "temperature" in res.output
    res2 = runner.invoke(
        app,
        [
            "predict",
            str(tmp_path / "m"),
            str(data),
            "--id-column",
            "sku",
            "--out",
            str(tmp_path / "preds.parquet"),
        ],
    )
    assert res2.exit_code == 0, res2.output
    preds = pd.read_parquet(tmp_path / "preds.parquet")
    assert list(preds.columns) == ["item_id", "label", "confidence", "p_a", "p_b", "prediction_set"]
    assert preds["item_id"].iloc[0] == "s0" and len(preds) == 120


def test_cli_is_thin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import truelabel.learn as learn

    seen: dict[str, Any] = {}

    class Fake:
        temperature = 1.0
        classes = ["a", "b"]
        conformal = {"alphas": [0.1]}
        metadata = {
            "metrics": {
                "calibration_data": "crossfit",
                "n_train": 1,
                "n_calibration": 1,
                "accuracy_vs_given_labels": 1.0,
                "mean_confidence": 1.0,
                "mean_set_size": 1.0,
            },
            "label_noise": {"noise_rate": 0.0},
            "training_data": {},
        }

        def save(self, out: Path, overwrite: bool = False) -> None:
            seen["out"] = out

    def fake_train(data: Path, **kw: Any) -> Fake:
        seen.update(kw)
        return Fake()

    monkeypatch.setattr(learn, "train_model", fake_train)
    res = runner.invoke(
        app,
        [
            "train",
            "x.csv",
            "--text-column",
            "t",
            "--labels",
            "l.parquet",
            "--scheme",
            "coteach",
            "--loss",
            "elr",
            "--model",
            "mlp",
            "--featurizer",
            "minilm",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert seen["labels"] == Path("l.parquet") and seen["scheme"] == "coteach"
    assert seen["loss"] == "elr" and seen["model"] == "mlp" and seen["featurizer"] == "minilm"
    assert seen["random_state"] == 0 and seen["calibrate"] is True
    assert seen["label_noise"] == "none" and seen["holdout"] is None


def test_bad_model_dir_exits_2(tmp_path: Path) -> None:
    data = _csv(tmp_path)
    res = runner.invoke(
        app, ["predict", str(tmp_path), str(data), "--out", str(tmp_path / "p.parquet")]
    )
    assert res.exit_code == 2
    assert "not a truelabel model directory" in res.output
    res2 = runner.invoke(app, ["serve-model", str(tmp_path / "nope")])
    assert res2.exit_code == 2
    res3 = runner.invoke(
        app,
        [
            "train",
            str(data),
            "--text-column",
            "body",
            "--out",
            str(tmp_path / "m2"),
            "--featurizer",
            "tfidf",
        ],
    )
    assert res3.exit_code == 2 and "exactly one of" in res3.output


def test_serve_model_passes_options(monkeypatch: pytest.MonkeyPatch) -> None:
    import truelabel.learn as learn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(learn, "serve_model", lambda d, **kw: seen.update(kw, dir=d))
    res = runner.invoke(app, ["serve-model", "m", "--port", "9001", "--max-batch", "64"])
    assert res.exit_code == 0, res.output
    assert seen == {
        "dir": Path("m"),
        "host": "127.0.0.1",
        "port": 9001,
        "max_batch": 64,
        "max_body_bytes": 16 * 1024 * 1024,
    }


@pytest.mark.parametrize("mode", ["class", "clustered"])
def test_train_conformal_modes(tmp_path: Path, mode: str) -> None:
    import json
    import warnings

    data = _csv(tmp_path)
    args = ["train", str(data), "--text-column", "body", "--label-column", "cls"]
    args += ["--featurizer", "tfidf", "--epochs", "3", "--conformal", mode]
    if mode == "clustered":  # clustered thresholds cannot correct for label noise
        res = runner.invoke(
            app, [*args, "--label-noise", "estimate", "--out", str(tmp_path / "m0")]
        )
        assert res.exit_code == 2 and "--label-noise none" in res.output
        assert not (tmp_path / "m0").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = runner.invoke(app, [*args, "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["conformal"]["mode"] == mode
    assert len(meta["conformal"]["quantiles"][0]) == 2


def test_train_model_clustered_warning_names_classes(tmp_path: Path) -> None:
    from truelabel.learn import train_model

    data = pd.read_csv(_csv(tmp_path))
    # 24 held-out items over 2 classes at alpha 0.05: too few to cluster -> named fallback
    with pytest.warns(UserWarning, match=r"use the marginal threshold: a, b"):
        train_model(
            data,
            text_column="body",
            label_column="cls",
            featurizer="tfidf",
            epochs=2,
            conformal="clustered",
            holdout=0.2,
        )
    with pytest.raises(Exception, match="unknown conformal mode"):
        train_model(data, text_column="body", label_column="cls", conformal="percls")


@pytest.mark.parametrize("scheme", ["plain", "prune"])
def test_train_forward_loss_estimates_noise_matrix(tmp_path: Path, scheme: str) -> None:
    import json

    data = _csv(tmp_path)
    args = ["train", str(data), "--text-column", "body", "--label-column", "cls"]
    args += ["--featurizer", "tfidf", "--epochs", "5", "--loss", "forward"]
    res = runner.invoke(app, [*args, "--scheme", scheme, "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    nm = np.asarray(meta["hyperparameters"]["noise_matrix"])
    assert nm.shape == (2, 2)
    np.testing.assert_allclose(nm.sum(axis=0), 1.0, atol=1e-6)


def test_train_early_stopping_records_the_kept_epoch(tmp_path: Path) -> None:
    import json

    data = _csv(tmp_path)
    args = ["train", str(data), "--text-column", "body", "--label-column", "cls"]
    args += ["--featurizer", "tfidf", "--model", "mlp", "--epochs", "60", "--early-stopping"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["hyperparameters"]["early_stopping"] is True
    m = meta["metrics"]
    # the words separate the classes perfectly: held-out accuracy peaks early and stays,
    # so training stops 10 epochs after the first perfect epoch
    assert m["best_epoch"] < m["epochs_run"] < 60
    assert m["epochs_run"] - m["best_epoch"] == 10
