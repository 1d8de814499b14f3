"""The model artifact: train -> save -> load -> predict, and its bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import truelabel
from truelabel import InputError
from truelabel.learn import TrainedModel, load_model, predict_table, train_model

WORDS = {
    "sport": ["goal", "match", "team", "score", "league", "coach", "player"],
    "tech": ["software", "chip", "code", "laptop", "server", "robot", "app"],
    "food": ["pasta", "bread", "cheese", "recipe", "soup", "salad", "bake"],
}


def make_frame(n: int = 240, noise: float = 0.1, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    classes = list(WORDS)
    y = rng.integers(0, 3, n)
    texts = [" ".join(rng.choice(WORDS[classes[c]], size=5)) + f" item{i}" for i, c in enumerate(y)]
    given = y.copy()
    flip = rng.random(n) < noise
    given[flip] = (given[flip] + 1) % 3
    return pd.DataFrame(
        {
            "id": [f"x{i}" for i in range(n)],
            "text": texts,
            "topic": [classes[c] for c in given],
            "truth": [classes[c] for c in y],
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainedModel, Path, pd.DataFrame]:
    df = make_frame()
    tm = train_model(
        df,
        text_column="text",
        label_column="topic",
        id_column="id",
        featurizer="tfidf",
        loss="elr",
        epochs=15,
        random_state=0,
    )
    out = tmp_path_factory.mktemp("m") / "model"
    tm.save(out)
    return tm, out, df


def test_roundtrip_and_files(trained: tuple[TrainedModel, Path, pd.DataFrame]) -> None:
    tm, out, df = trained
    assert {p.name for p in out.iterdir()} >= {
        "model.json",
        "weights.safetensors",
        "tfidf.json",
        "run.json",
    }
    meta = json.loads((out / "model.json").read_text())
    assert meta["format"] == "truelabel-model/1" and meta["classes"] == ["food", "sport", "tech"]
    assert meta["featurizer"]["name"] == "tfidf" and meta["temperature"] > 0
    assert len(meta["training_data"]["sha256"]) == 64
    # the default calibrates on a 5-fold cross-fit of all 240 rows; the model sees them all
    assert "torch" in meta["versions"] and meta["metrics"]["n_calibration"] == 240
    assert meta["metrics"]["calibration_data"] == "crossfit" and meta["metrics"]["n_train"] == 240
    # ELR's cross-fit is not a CE one, so no noise matrix comes free and none is estimated
    # (the default CE run reports one: tests/learn/test_learn_label_noise.py)
    assert meta["label_noise"] == {"method": "none (labels treated as true)"}
    assert len(meta["conformal"]["quantiles"]) == 2
    # the report's ECE card and its reliability chart use the same 15 bins, so they agree
    m = meta["metrics"]
    rel = m["reliability_after"]
    cnt = np.array(rel["count"], dtype=float)
    gap = [
        abs(a - c) if n else 0.0
        for a, c, n in zip(rel["accuracy"], rel["confidence"], cnt, strict=True)
    ]
    assert len(cnt) == 15
    assert float(np.dot(cnt / cnt.sum(), gap)) == pytest.approx(m["ece_vs_given_labels_after"])
    loaded = truelabel.load_model(out)
    texts = ["goal match team", "pasta bread soup", "chip code server"]
    np.testing.assert_allclose(loaded.predict_proba(texts), tm.predict_proba(texts), atol=1e-6)
    assert loaded.predict(texts) == ["sport", "food", "tech"]
    sets = loaded.predict_sets(loaded.predict_proba(texts))
    assert sets.shape == (3, 3) and sets.any(axis=1).all()


def test_predict_table(trained: tuple[TrainedModel, Path, pd.DataFrame]) -> None:
    _, out, df = trained
    preds = predict_table(load_model(out), df.drop(columns=["topic"]), id_column="id")
    assert list(preds.columns) == [
        "item_id",
        "label",
        "confidence",
        "p_food",
        "p_sport",
        "p_tech",
        "prediction_set",
    ]
    assert preds["item_id"].iloc[0] == "x0"
    assert (preds["label"] == df["truth"]).mean() > 0.9
    # the artifact's sets always hold the top class
    assert all(lab in st for lab, st in zip(preds["label"], preds["prediction_set"], strict=True))
    np.testing.assert_allclose(preds[["p_food", "p_sport", "p_tech"]].sum(axis=1), 1, atol=1e-5)


def test_soft_labels_table(tmp_path: Path) -> None:
    df = make_frame(150)
    classes = list(WORDS)
    post = np.full((150, 3), 0.1)
    post[np.arange(150), [classes.index(t) for t in df["topic"]]] = 0.8
    lab = pd.DataFrame(
        {"item_id": df["id"], **{f"p_{c}": post[:, i] for i, c in enumerate(sorted(classes))}}
    )
    # sorted class order: food, sport, tech; rebuild the posterior in that order
    order = [classes.index(c) for c in sorted(classes)]
    for i, c in enumerate(sorted(classes)):
        lab[f"p_{c}"] = post[:, order[i]]
    lab.to_parquet(tmp_path / "labels.parquet")
    tm = train_model(
        df,
        text_column="text",
        labels=tmp_path / "labels.parquet",
        id_column="id",
        featurizer="tfidf",
        epochs=10,
    )
    assert tm.metadata["training_data"]["soft_targets"] is True
    assert tm.classes == ["food", "sport", "tech"]
    bad = lab.copy()
    bad["p_food"] = 0.9
    with pytest.raises(InputError, match="sums to"):
        train_model(df, text_column="text", labels=bad, id_column="id", featurizer="tfidf")
    nan = lab.copy()
    nan.loc[3, "p_food"] = np.nan
    with pytest.raises(InputError, match="NaN"):
        train_model(df, text_column="text", labels=nan, id_column="id", featurizer="tfidf")
    hard = pd.DataFrame({"item_id": df["id"], "label": df["topic"]})
    tm2 = train_model(
        df,
        text_column="text",
        labels=hard,
        id_column="id",
        featurizer="tfidf",
        scheme="coteach",
        epochs=5,
    )
    assert len(tm2.weights) == 2
    with pytest.raises(InputError, match="match the data's ids"):
        train_model(
            df,
            text_column="text",
            labels=hard.assign(item_id="zz"),
            id_column="id",
            featurizer="tfidf",
        )


def test_vectors_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    vecs = rng.normal(size=(200, 8)) + y[:, None] * 2
    df = pd.DataFrame({"v": list(vecs), "y": y})
    tm = train_model(
        df, vectors_column="v", featurizer="vectors", label_column="y", model="mlp", epochs=10
    )
    tm.save(tmp_path / "m")
    m = load_model(tmp_path / "m")
    assert m.predict_proba(vecs[:5].astype(np.float32)).shape == (5, 2)
    with pytest.raises(InputError, match="dimension 3 but the model expects 8"):
        m.predict_proba(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(InputError, match="trained on precomputed vectors"):
        m.predict_proba(["some text"])
    assert len(predict_table(m, df)) == 200


def test_bad_inputs(trained: tuple[TrainedModel, Path, pd.DataFrame], tmp_path: Path) -> None:
    tm, out, df = trained
    with pytest.raises(InputError, match="empty"):
        tm.predict_proba(["fine", "   "])
    with pytest.raises(InputError, match="not a truelabel model directory"):
        load_model(tmp_path)
    other = tmp_path / "old"
    other.mkdir()
    for f in out.iterdir():
        (other / f.name).write_bytes(f.read_bytes())
    meta = json.loads((other / "model.json").read_text())
    meta["format"] = "truelabel-model/0"
    meta["versions"]["truelabel"] = "0.0.1"
    (other / "model.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"format 'truelabel-model/0' written by truelabel 0.0.1"):
        load_model(other)
    with pytest.raises(InputError, match="alpha 0.3 was not calibrated"):
        tm.predict_sets(tm.predict_proba(["goal"]), alpha=0.3)
    with pytest.raises(InputError, match="exactly one of"):
        train_model(df, text_column="text", featurizer="tfidf")
    with pytest.raises(InputError, match="unknown featurizer"):
        train_model(df, text_column="text", label_column="topic", featurizer="bert")
    with pytest.raises(InputError, match="holdout"):
        train_model(df, text_column="text", label_column="topic", featurizer="tfidf", holdout=0.9)


@pytest.mark.shared
def test_real_data_banking77() -> None:
    from _shared import shared_path

    path = shared_path("text", "banking77", "train.csv")
    df = pd.read_csv(path).groupby("category").head(30).reset_index(drop=True)
    tm = train_model(
        df,
        text_column="text",
        label_column="category",
        featurizer="tfidf",
        epochs=20,
        random_state=0,
    )
    m = tm.metadata["metrics"]
    # measured: cross-fitted accuracy ~0.75 on 77 classes x 30 texts each
    assert len(tm.classes) == 77
    assert m["accuracy_vs_given_labels"] > 0.55
    assert m["ece_vs_given_labels_after"] < m["ece_vs_given_labels_before"] + 0.02
