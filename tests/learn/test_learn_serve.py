"""The model server: a real uvicorn on 127.0.0.1, real HTTP requests with httpx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from _shared import serve_in_thread
from truelabel.learn import create_app, train_model

WORDS = {
    "pos": ["great", "love", "excellent", "happy", "wonderful"],
    "neg": ["awful", "hate", "terrible", "sad", "boring"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    names = list(WORDS)
    texts = [" ".join(rng.choice(WORDS[names[c]], size=4)) for c in y]
    df = pd.DataFrame({"text": texts, "label": [names[c] for c in y]})
    out = tmp_path_factory.mktemp("srv") / "model"
    train_model(df, text_column="text", label_column="label", featurizer="tfidf", epochs=10).save(
        out
    )
    with serve_in_thread(create_app(out, max_batch=50, max_body_bytes=20_000)) as url:
        yield url


def test_health_model_openapi(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as c:
        assert c.get("/healthz").json() == {"status": "ok", "n_classes": 2}
        meta = c.get("/model").json()
        assert meta["classes"] == ["neg", "pos"] and meta["format"] == "truelabel-model/1"
        spec = c.get("/openapi.json").json()
        assert "/predict" in spec["paths"]


def test_predict_texts(server: str) -> None:
    r = httpx.post(f"{server}/predict", json={"texts": ["great love", "awful hate"]}, timeout=30)
    assert r.status_code == 200
    preds = r.json()["predictions"]
    assert [p["label"] for p in preds] == ["pos", "neg"]
    assert abs(sum(preds[0]["probabilities"].values()) - 1) < 1e-4
    assert preds[0]["label"] in preds[0]["prediction_set"] or preds[0]["prediction_set"] == []
    r2 = httpx.post(f"{server}/predict", json={"texts": ["great"], "alpha": 0.05}, timeout=30)
    assert r2.json()["alpha"] == 0.05


def test_predict_vectors_wrong_dimension(server: str) -> None:
    r = httpx.post(f"{server}/predict", json={"vectors": [[0.1, 0.2, 0.3]]}, timeout=30)
    assert r.status_code == 422
    assert "dimension 3" in r.json()["message"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"texts": ["ok", "  "]}, "texts[1] is empty"),
        ({}, "exactly one of"),
        ({"texts": ["a"], "vectors": [[1.0]]}, "exactly one of"),
        ({"texts": "not a list"}, "texts"),
        ({"texts": ["a"], "extra": 1}, "extra"),
        ({"texts": ["a"], "alpha": 0.33}, "alpha 0.33 was not calibrated"),
    ],
)
def test_validation_errors_are_422(server: str, body: dict, match: str) -> None:
    r = httpx.post(f"{server}/predict", json=body, timeout=30)
    assert r.status_code == 422
    assert match in r.json()["message"]


def test_malformed_json_is_422(server: str) -> None:
    r = httpx.post(
        f"{server}/predict",
        content=b'{"texts": ["a",',
        timeout=30,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert "malformed JSON" in r.json()["message"]


def test_limits_are_413(server: str) -> None:
    r = httpx.post(f"{server}/predict", json={"texts": ["great"] * 51}, timeout=30)
    assert r.status_code == 413 and "limit of 50" in r.json()["detail"]
    big = {"texts": ["x" * 30_000]}
    r2 = httpx.post(f"{server}/predict", json=big, timeout=30)
    assert r2.status_code == 413

    def chunks() -> Iterator[bytes]:  # no content-length: the streamed body is counted
        yield b'{"texts": ["'
        for _ in range(30):
            yield b"y" * 1000
        yield b'"]}'

    r3 = httpx.post(
        f"{server}/predict",
        content=chunks(),
        timeout=30,
        headers={"content-type": "application/json"},
    )
    assert r3.status_code == 413


def test_serve_model_file_missing(tmp_path: Path) -> None:
    from truelabel import InputError

    with pytest.raises(InputError, match="not a truelabel model directory"):
        create_app(tmp_path)
