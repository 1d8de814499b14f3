"""`serve-model`: bad request bodies get 4xx with a message, never a 500 (issue 14).

A real uvicorn on 127.0.0.1 serves the workspace's model; requests go over HTTP (httpx).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _shared import serve_in_thread
from truelabel.learn import create_app


@pytest.fixture(scope="module")
def server(cli_base: Path) -> Iterator[str]:
    app = create_app(cli_base / "model", max_batch=20, max_body_bytes=50_000)
    with serve_in_thread(app) as url:
        yield url


@pytest.mark.parametrize(
    ("body", "status", "expect"),
    [
        ({"texts": []}, 422, "the batch is empty"),
        ({"vectors": []}, 422, "the batch is empty"),
        ({}, 422, "exactly one of 'texts', 'vectors' or 'rows'"),
        ({"texts": ["good movie"], "vectors": [[0.0]]}, 422, "exactly one of"),
        ({"texts": ["  "]}, 422, "texts[0] is empty"),
        ({"texts": "good movie"}, 422, "texts"),
        ({"texts": [1, 2]}, 422, "texts"),
        ({"texts": ["good movie"], "extra": 1}, 422, "extra"),
        ({"texts": ["good movie"] * 21}, 413, "larger than the limit of 20"),
        ('{"texts": ["unclosed"', 422, "malformed JSON"),
        ("x" * 60_000, 413, "request body larger than 50000 bytes"),
    ],
)
def test_bad_request_gets_a_4xx_with_a_message(
    server: str, body: Any, status: int, expect: str
) -> None:
    with httpx.Client(base_url=server, timeout=30) as c:
        if isinstance(body, str):
            r = c.post("/predict", content=body, headers={"content-type": "application/json"})
        else:
            r = c.post("/predict", json=body)
    assert r.status_code == status, r.text
    payload = r.json()
    assert expect in (payload.get("message") or str(payload.get("detail"))), payload


def test_good_request_still_answers(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as c:
        r = c.post("/predict", json={"texts": ["good great movie", "awful bad movie"]})
    assert r.status_code == 200
    assert [p["label"] for p in r.json()["predictions"]] == ["pos", "neg"]
