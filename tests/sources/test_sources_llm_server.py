"""A real LLM in the loop: llama.cpp (xllamacpp) serving SmolLM2-135M on 127.0.0.1.

The model's quality is not the point; the protocol is: real HTTP, JSON-schema constrained
answers, log-probability confidence, the cache (second run makes no call), resuming an
interrupted run, and stopping the server.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from llm_server import start_llama_server

from truelabel.sources import LLMLabeler

CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
TEXTS = [
    "The home team won the football final 3-1.",
    "Shares fell after the bank reported lower profits.",
]

pytestmark = pytest.mark.slow


class Interrupted(Exception):
    pass


def test_real_server_labels_caches_and_resumes(tmp_path: Path) -> None:
    cache = tmp_path / "llm.sqlite"

    def labeler() -> LLMLabeler:
        return LLMLabeler(
            url,
            "smollm2-135m",
            cache_path=cache,
            max_tokens=12,
            concurrency=1,
            timeout=120.0,
            max_retries=1,
        )

    def stop_after_one(done: int, total: int) -> None:
        if done == 1:
            raise Interrupted

    with start_llama_server() as url:
        # 1. an interrupted run: one answer is paid for and cached, then the run dies
        with pytest.raises(Interrupted):
            labeler().label(TEXTS, CLASSES, progress=stop_after_one)
        # 2. resume: only the missing item is sent
        res = labeler().label(TEXTS, CLASSES)
        assert res.stats["n_cache_hits"] == 1 and res.stats["n_calls"] == 1
        assert res.stats["n_failed"] == 0
        # JSON-schema output keeps every answer inside the class list
        assert res.stats["structured_output"] is True
        assert res.stats["n_votes"] == 2 and res.stats["n_abstain"] == 0
        assert set(res.votes["label"]) <= set(CLASSES)
        assert res.votes["confidence"].between(0, 1).all()
        assert res.stats["prompt_tokens"] > 0
        # 3. a re-run makes no call at all
        again = labeler().label(TEXTS, CLASSES)
        assert again.stats["n_calls"] == 0 and again.stats["n_cache_hits"] == 2
        assert again.votes["label"].tolist() == res.votes["label"].tolist()
    # 4. the server is stopped
    with pytest.raises(httpx.TransportError):
        httpx.post(url + "/chat/completions", json={}, timeout=2.0)
