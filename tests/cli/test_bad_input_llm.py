"""`truelabel label --llm-base-url` against real faulty HTTP servers on 127.0.0.1.

Issue 14: an unreachable server wrote all-empty labels and exited 0. Now a run where no
item got a usable answer (or more than ``--llm-max-failed-share`` of them) exits 1 with
the first error, writes nothing, and keeps the answers it paid for in the cache. The
servers are real (``FlakyServer``: ``http.server`` on a free port) that time out, answer
429, answer garbage, or are not there at all; only the client's backoff sleeps are
skipped to keep the suite fast.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import invoke, refused

from sources.llm_server import FlakyServer, completion, free_port
from truelabel.sources._llm_client import ChatClient

ITEMS = 4
CACHE = ("cache",)  # the LLM answer cache may change: answers paid for are kept


@pytest.fixture
def small(ws: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Four items to label; no backoff sleeps between retries."""
    monkeypatch.setattr(ChatClient, "_wait", lambda self, attempt, retry_after: None)
    lines = (ws / "data.csv").read_text().splitlines()[: ITEMS + 1]
    (ws / "four.csv").write_text("\n".join(lines) + "\n")
    return "four.csv"


def _label(url: str, data: str, *extra: Any) -> list[Any]:
    return [
        "label", data, "--text-column", "text", "--classes", "neg,pos", "--out", "out",
        "--llm-base-url", url, "--llm-cache", "cache/llm.sqlite", "--llm-timeout", "0.5",
        *extra,
    ]  # fmt: skip


def _cached_answers(ws: Path) -> int:
    db = ws / "cache" / "llm.sqlite"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)


def test_server_down(ws: Path, small: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    refused(
        _label(url, small),
        r"no usable answer for 4 of 4 items \(100%\): 4 calls failed \(first: connection error",
        code=1,
        ignore=CACHE,
    )
    assert not (ws / "out").exists()


@pytest.mark.parametrize(
    ("fault", "behaviour", "expect"),
    [
        ("429", lambda req, n: (429, {"error": "slow down"}, {}), r"first: HTTP 429"),
        ("timeout", lambda req, n: (200, 2.0, {}), r"first: timeout"),
        ("garbage", lambda req, n: (200, "<html>oops</html>", {}), r"HTTP 200 but not a chat"),
        ("500", lambda req, n: (500, "boom", {}), r"first: HTTP 500"),
    ],
)
def test_every_call_fails(ws: Path, small: str, fault: str, behaviour: Any, expect: str) -> None:
    with FlakyServer(behaviour) as srv:
        r = refused(
            _label(srv.url, small), rf"no usable answer for 4 of 4 items.*{expect}", ignore=CACHE
        )
        assert r.exit_code == 1
        assert srv.calls >= ITEMS  # it really asked (and retried)
    assert not (ws / "out").exists()


def test_answers_naming_no_class(ws: Path, small: str) -> None:
    with FlakyServer(lambda req, n: (200, completion("I cannot tell."), {})) as srv:
        refused(
            _label(srv.url, small),
            r"no usable answer for 4 of 4 items.*4 answers named no class \(first: 'I cannot",
            code=1,
            ignore=CACHE,
        )
    assert not (ws / "out").exists()
    assert _cached_answers(ws) > 0  # paid answers are kept for the next run


def test_some_failures_pass_by_default_but_not_a_stated_share(ws: Path, small: str) -> None:
    """Half the items fail: the default accepts (their labels stay empty), a stricter
    ``--llm-max-failed-share 0.25`` refuses and writes nothing."""

    def half(req: dict[str, Any], n: int) -> tuple[int, Any, dict[str, str]]:
        text = req["messages"][-1]["content"]
        negative = any(w in text for w in ("bad", "awful", "poor", "hate"))
        return (500, "down", {}) if negative else (200, completion("pos"), {})

    with FlakyServer(half) as srv:
        r = refused(
            _label(srv.url, small, "--llm-max-failed-share", "0.25"),
            r"no usable answer for 2 of 4 items \(50%, more than --llm-max-failed-share 0.25\)",
            code=1,
            ignore=CACHE,
        )
        assert "first: HTTP 500" in r.output
        ok = invoke(_label(srv.url, small))
    assert ok.exit_code == 0, ok.output
    assert (ws / "out" / "labels.parquet").is_file()


def test_max_failed_share_must_be_a_share(ws: Path, small: str) -> None:
    r = invoke(_label("http://127.0.0.1:9/v1", small, "--llm-max-failed-share", "2"))
    assert r.exit_code == 2 and "Traceback" not in r.output
