"""LLM labelers against local misbehaving HTTP servers: parsing, cache, retries, budget."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from llm_server import FlakyServer, completion, free_port
from typer.testing import CliRunner

from truelabel import InputError, ServiceError
from truelabel.cli import app
from truelabel.sources import (
    ClassSpec,
    LLMCache,
    LLMLabeler,
    label_with_llm,
    match_label,
    render_prompt,
)
from truelabel.sources._llm import _logprob_confidence, nearest_examples
from truelabel.sources._llm_cache import CACHE_VERSION, request_key

CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
TEXTS = ["The team won 3-1", "Stocks fell", "New chip released", "Peace talks resume"]


def _ok(content: str = "Sports") -> Any:
    return lambda req, n: (200, completion(content), {})


def _labeler(url: str, tmp_path: Path, **kw: Any) -> LLMLabeler:
    kw.setdefault("backoff", 0.0)
    kw.setdefault("concurrency", 2)
    kw.setdefault("timeout", 5.0)
    return LLMLabeler(url, "test-model", cache_path=tmp_path / "llm.sqlite", **kw)


# ------------------------------------------------------------------ pure functions


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Sports", "Sports"),
        ("  sports. ", "Sports"),
        ('"Sci/Tech"', "Sci/Tech"),
        ('{"label": "Business"}', "Business"),
        ('```json\n{"label": "World"}\n```', "World"),
        ("Category: World", "World"),
        ("Sports\nbecause the text is about a match", "Sports"),
        ("Cooking", None),
        ("Sports or Business", None),
        ('{"label": "Cooking"}', None),
        ('{"label": ', None),
        ("", None),
        (None, None),
    ],
)
def test_match_label_is_strict(answer: str | None, expected: str | None) -> None:
    assert match_label(answer, CLASSES) == expected


def test_render_prompt_lists_classes_and_examples() -> None:
    specs = [ClassSpec("Sports", "games and athletes"), ClassSpec("World")]
    text = render_prompt(
        None,
        text="A match",
        classes=specs,
        examples=[("Cup final tonight", "Sports")],
        json_output=True,
    )
    assert "- Sports: games and athletes" in text
    assert "- World\n" in text
    assert "Text: Cup final tonight\nCategory: Sports" in text
    assert text.rstrip().endswith('as JSON {"label": "<category>"}.')
    assert "Text: A match" in text
    custom = render_prompt(
        "Pick one of {{ classes|map(attribute='name')|join('|') }}: {{ text }}",
        text="hi",
        classes=specs,
    )
    assert custom == "Pick one of Sports|World: hi"
    with pytest.raises(InputError, match="failed to render"):
        render_prompt("{{ nope }}", text="x", classes=specs)


def test_nearest_examples_orders_by_similarity() -> None:
    Xg = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    Xq = np.array([[1, 0.1], [0, 1]], dtype=np.float32)
    nn = nearest_examples(Xq, Xg, 2)
    assert nn.tolist() == [[0, 2], [1, 2]]
    assert nearest_examples(Xq, Xg, 0).shape == (2, 0)


def test_logprob_confidence_from_top_alternatives() -> None:
    lp = {
        "content": [
            {"token": '{"label": "', "logprob": 0.0, "top_logprobs": []},
            {
                "token": "Sports",
                "logprob": np.log(0.6),
                "top_logprobs": [
                    {"token": "Sports", "logprob": np.log(0.6)},
                    {"token": "World", "logprob": np.log(0.2)},
                    {"token": "the", "logprob": np.log(0.2)},  # not a class: ignored
                ],
            },
            {"token": '"}', "logprob": 0.0},
        ]
    }
    resp = completion('{"label": "Sports"}', logprobs=lp)
    assert _logprob_confidence(resp, "Sports", CLASSES) == pytest.approx(0.75)  # 0.6 / 0.8
    assert _logprob_confidence(completion("Sports"), "Sports", CLASSES) is None


# ------------------------------------------------------------------ cache


def test_cache_round_trip_and_key(tmp_path: Path) -> None:
    c = LLMCache(tmp_path / "c.sqlite")
    k = request_key("m", [{"role": "user", "content": "x"}], {"temperature": 0})
    assert k != request_key("m", [{"role": "user", "content": "x"}], {"temperature": 1})
    assert c.get(k) is None
    c.put(k, "m", {"a": 1})
    assert c.get(k) == {"a": 1} and len(c) == 1
    c.close()
    again = LLMCache(tmp_path / "c.sqlite")
    assert again.get(k) == {"a": 1} and again.rebuilt is None
    again.close()


def test_corrupted_cache_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    p = tmp_path / "c.sqlite"
    p.write_bytes(b"this is not a database" * 100)
    c = LLMCache(p)
    assert c.rebuilt is not None and "moved it to" in c.rebuilt
    assert len(c) == 0
    assert list(tmp_path.glob("c.sqlite.unusable-*"))  # kept, not deleted
    c.close()


def test_cache_from_another_version_is_rebuilt(tmp_path: Path) -> None:
    p = tmp_path / "c.sqlite"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO meta VALUES ('version', '0-old')")
    conn.commit()
    conn.close()
    c = LLMCache(p)
    assert c.rebuilt is not None and "'0-old'" in c.rebuilt and CACHE_VERSION in c.rebuilt
    c.close()


# ------------------------------------------------------------------ against servers


def test_labels_then_second_run_is_all_cache(tmp_path: Path) -> None:
    answers = {
        "The team won 3-1": "Sports",
        "Stocks fell": "Business",
        "New chip released": "Sci/Tech",
        "Peace talks resume": "Pasta",
    }

    def behave(req: dict[str, Any], n: int) -> Any:
        text = req["messages"][-1]["content"].split("Text: ")[-1].split("\n")[0]
        return 200, completion(json.dumps({"label": answers[text]})), {}

    with FlakyServer(behave) as srv:
        res = _labeler(srv.url, tmp_path).label(TEXTS, CLASSES, item_ids=["a", "b", "c", "d"])
        assert srv.calls == 4
        assert res.stats["n_calls"] == 4 and res.stats["n_abstain"] == 1
        assert res.votes["label"].tolist() == ["Sports", "Business", "Sci/Tech"]
        assert res.votes["item_id"].tolist() == ["a", "b", "c"]
        assert res.votes["confidence"].tolist() == [1.0, 1.0, 1.0]
        assert res.stats["prompt_tokens"] == 40 and res.stats["completion_tokens"] == 8
        req = srv.requests[0]
        assert (
            req["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"]
            == CLASSES
        )
        again = _labeler(srv.url, tmp_path).label(TEXTS, CLASSES, item_ids=["a", "b", "c", "d"])
        assert srv.calls == 4  # no new call
        assert again.stats["n_cache_hits"] == 4 and again.stats["n_calls"] == 0
        pd.testing.assert_frame_equal(again.votes, res.votes)


def test_retries_500_429_and_garbage_then_succeeds(tmp_path: Path) -> None:
    script = {
        1: (500, {"error": "boom"}, {}),
        2: (429, {"error": "slow down"}, {"Retry-After": "0"}),
        3: (200, "<html>not json</html>", {}),
        4: (200, {"choices": []}, {}),
    }

    def behave(req: dict[str, Any], n: int) -> Any:
        return script.get(n, (200, completion("World"), {}))

    with FlakyServer(behave) as srv:
        res = _labeler(srv.url, tmp_path, concurrency=1, max_retries=5).label(TEXTS[:1], CLASSES)
        assert srv.calls == 5
        assert res.votes["label"].tolist() == ["World"]
        assert res.stats["n_failed"] == 0


def test_persistent_failures_are_counted_not_fatal(tmp_path: Path) -> None:
    def behave(req: dict[str, Any], n: int) -> Any:
        text = req["messages"][-1]["content"]
        return (500, {"e": 1}, {}) if "Stocks" in text else (200, completion("Sports"), {})

    with FlakyServer(behave) as srv:
        res = _labeler(srv.url, tmp_path, max_retries=1).label(TEXTS, CLASSES)
    assert res.stats["n_failed"] == 1 and res.stats["n_votes"] == 3
    failed = res.answers[res.answers["error"].notna()]
    assert failed["error"].tolist() == ["HTTP 500"]


def test_slow_server_times_out_and_is_retried(tmp_path: Path) -> None:
    def behave(req: dict[str, Any], n: int) -> Any:
        return (200, 1.5, {}) if n == 1 else (200, completion("Business"), {})

    with FlakyServer(behave) as srv:
        res = _labeler(srv.url, tmp_path, concurrency=1, timeout=0.3, max_retries=2).label(
            TEXTS[:1], CLASSES
        )
    assert res.votes["label"].tolist() == ["Business"]


def test_endpoint_down_raises_service_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens here
    lab = _labeler(url, tmp_path, max_retries=0, max_consecutive_failures=2, concurrency=1)
    with pytest.raises(ServiceError, match="No answer was obtained"):
        lab.label(TEXTS, CLASSES)


def test_endpoint_dies_mid_run_keeps_paid_answers(tmp_path: Path) -> None:
    def behave(req: dict[str, Any], n: int) -> Any:
        return (200, completion("Sports"), {}) if n <= 2 else (503, {"e": 1}, {})

    with FlakyServer(behave) as srv:
        res = _labeler(
            srv.url, tmp_path, concurrency=1, max_retries=0, max_consecutive_failures=2
        ).label(TEXTS, CLASSES)
    assert res.stats["n_votes"] == 2
    assert res.stats["stopped"].startswith("endpoint failing")
    assert res.stats["n_skipped"] == 0 or res.stats["n_failed"] == 2
    # the two paid answers are in the cache: a later run with a healthy server pays for 2 only
    with FlakyServer(_ok("World")) as srv2:
        res2 = _labeler(srv2.url, tmp_path, concurrency=1).label(TEXTS, CLASSES)
        assert srv2.calls == 2 and res2.stats["n_cache_hits"] == 2


def test_auth_error_stops_at_once(tmp_path: Path) -> None:
    with FlakyServer(lambda req, n: (401, {"error": "bad key"}, {})) as srv:
        with pytest.raises(ServiceError, match="HTTP 401"):
            _labeler(srv.url, tmp_path, concurrency=1).label(TEXTS, CLASSES)
        assert srv.calls == 1


def test_unsupported_response_format_falls_back_to_text(tmp_path: Path) -> None:
    def behave(req: dict[str, Any], n: int) -> Any:
        if "response_format" in req:
            return 400, {"error": "unknown field response_format"}, {}
        return 200, completion("Sports"), {}

    with FlakyServer(behave) as srv:
        res = _labeler(srv.url, tmp_path, concurrency=1).label(TEXTS, CLASSES)
        assert res.stats["structured_output"] is False
        assert res.stats["n_votes"] == 4
        n = srv.calls
        again = _labeler(srv.url, tmp_path, concurrency=1).label(TEXTS, CLASSES)
        assert srv.calls == n and again.stats["n_cache_hits"] == 4


def test_budget_zero_makes_no_calls_and_budget_resumes(tmp_path: Path) -> None:
    with FlakyServer(_ok("Sports")) as srv:
        res = _labeler(srv.url, tmp_path, max_calls=0).label(TEXTS, CLASSES)
        assert srv.calls == 0 and res.stats["n_skipped"] == 4
        assert res.stats["stopped"] == "budget: max_calls=0 reached"
        assert len(res.votes) == 0
        res = _labeler(srv.url, tmp_path, max_calls=3, concurrency=1).label(TEXTS, CLASSES)
        assert srv.calls == 3 and res.stats["n_votes"] == 3 and res.stats["n_skipped"] == 1
        res = _labeler(srv.url, tmp_path, max_calls=3).label(TEXTS, CLASSES)
        assert srv.calls == 4 and res.stats["n_cache_hits"] == 3 and res.stats["n_votes"] == 4


def test_token_budget_stops(tmp_path: Path) -> None:
    with FlakyServer(_ok("Sports")) as srv:
        res = _labeler(srv.url, tmp_path, max_total_tokens=20, concurrency=1).label(TEXTS, CLASSES)
        assert srv.calls == 2  # 12 tokens per call: stops once 24 >= 20
        assert res.stats["stopped"] == "budget: max_tokens=20 reached"


def test_interrupted_run_resumes(tmp_path: Path) -> None:
    class Crash(Exception):
        pass

    def crash_after_two(done: int, total: int) -> None:
        if done == 2:
            raise Crash

    with FlakyServer(_ok("Sports")) as srv:
        with pytest.raises(Crash):
            _labeler(srv.url, tmp_path, concurrency=1).label(
                TEXTS, CLASSES, progress=crash_after_two
            )
        assert srv.calls == 2
        res = _labeler(srv.url, tmp_path, concurrency=1).label(TEXTS, CLASSES)
        assert srv.calls == 4 and res.stats["n_cache_hits"] == 2 and res.stats["n_votes"] == 4


def test_samples_agreement_confidence(tmp_path: Path) -> None:
    def behave(req: dict[str, Any], n: int) -> Any:
        return 200, completion("Business" if req.get("seed") == 2 else "Sports"), {}

    with FlakyServer(behave) as srv:
        res = _labeler(srv.url, tmp_path, n_samples=3, temperature=0.7).label(TEXTS[:2], CLASSES)
    assert srv.calls == 6
    assert res.votes["label"].tolist() == ["Sports", "Sports"]
    np.testing.assert_allclose(res.votes["confidence"], 2 / 3)


def test_few_shot_examples_come_from_gold(tmp_path: Path) -> None:
    with FlakyServer(_ok("Sports")) as srv:
        _labeler(srv.url, tmp_path, n_shots=1, featurizer="tfidf").label(
            ["goal scored in the match"],
            CLASSES,
            gold_texts=["stock market rally", "late goal wins the match"],
            gold_labels=["Business", "Sports"],
        )
        prompt = srv.requests[0]["messages"][-1]["content"]
    assert "Text: late goal wins the match\nCategory: Sports" in prompt
    assert "stock market rally" not in prompt


def test_bad_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    lab = _labeler("http://127.0.0.1:9/v1", tmp_path, api_key_env="NO_SUCH_KEY_VAR")
    with pytest.raises(InputError, match="NO_SUCH_KEY_VAR.*not set"):
        lab.label(TEXTS, CLASSES)
    with pytest.raises(InputError, match="'max_calls' parameter"):
        _labeler("http://x/v1", tmp_path, max_calls=-1).label(TEXTS, CLASSES)
    with pytest.raises(InputError, match="duplicate class name"):
        _labeler("http://x/v1", tmp_path).label(TEXTS, ["A", "A"])
    with pytest.raises(InputError, match="gold labels.*not in the class list"):
        _labeler("http://x/v1", tmp_path).label(
            TEXTS, CLASSES, gold_texts=["x"], gold_labels=["Pasta"]
        )


def test_api_key_is_sent_from_the_named_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TL_TEST_KEY", "sekret")
    with FlakyServer(_ok("Sports")) as srv:
        res = _labeler(srv.url, tmp_path, api_key_env="TL_TEST_KEY").label(TEXTS[:1], CLASSES)
        assert srv.headers[0]["authorization"] == "Bearer sekret"
    assert res.source.startswith("llm:test-model:label-")


def test_label_with_llm_writes_run_and_cli(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    pd.DataFrame(
        {"id": ["a", "b", "c", "d"], "text": TEXTS, "gold": [None, None, None, "World"]}
    ).to_csv(data, index=False)
    with FlakyServer(_ok("Sports")) as srv:
        res = label_with_llm(
            data,
            text_column="text",
            classes=",".join(CLASSES),
            llm=_labeler(srv.url, tmp_path),
            id_column="id",
            gold_column="gold",
            out=tmp_path / "run",
        )
        assert srv.calls == 3  # the gold row is not sent
        labels = pd.read_parquet(tmp_path / "run" / "labels.parquet")
        assert labels["item_id"].tolist() == ["a", "b", "c"]
        assert (tmp_path / "run" / "answers.parquet").is_file()
        assert res.stats["n_votes"] == 3
        r = CliRunner().invoke(
            app,
            [
                "label",
                str(data),
                "--text-column",
                "text",
                "--classes",
                ",".join(CLASSES),
                "--llm-base-url",
                srv.url,
                "--llm-model",
                "test-model",
                "--llm-cache",
                str(tmp_path / "llm.sqlite"),
                "--featurizer",
                "tfidf",
                "--out",
                str(tmp_path / "run2"),
                "--llm-max-calls",
                "0",
            ],
        )
        assert r.exit_code == 0, r.output
        assert "cache hits" in r.output
        assert srv.calls == 3  # all 4 rows now: 3 from the cache, 1 skipped by the budget
        assert "stopped early" in r.output


def test_label_with_llm_select_sends_only_k_items(tmp_path: Path) -> None:
    df = pd.DataFrame({"text": TEXTS + ["Markets rallied", "The striker scored twice"]})
    with FlakyServer(_ok("Sports")) as srv:
        res = label_with_llm(
            df,
            text_column="text",
            classes=CLASSES,
            select=2,
            featurizer="tfidf",
            llm=_labeler(srv.url, tmp_path),
        )
        assert srv.calls == 2
    assert res.stats["selected"] == 2 and res.stats["n_votes"] == 2


def test_interrupted_concurrent_run_loses_no_paid_answer(tmp_path: Path) -> None:
    class Crash(Exception):
        pass

    def crash(done: int, total: int) -> None:
        if done == 1:
            raise Crash

    with FlakyServer(_ok("Sports")) as srv:
        with pytest.raises(Crash):
            _labeler(srv.url, tmp_path, concurrency=2).label(TEXTS, CLASSES, progress=crash)
        paid = srv.calls
        res = _labeler(srv.url, tmp_path, concurrency=2).label(TEXTS, CLASSES)
        # every call paid before the crash is read back from the cache, none is repeated
        assert res.stats["n_cache_hits"] == paid and srv.calls == 4
        assert res.stats["n_votes"] == 4


# ------------------------------------------------------------------ answer length


def _cutting_server(label: str) -> Any:
    """Answers ``{"label": label}`` and, like a real server, stops at ``max_tokens`` (one
    character per token here: the worst case) with ``finish_reason = "length"``."""

    def behave(req: dict[str, Any], n: int) -> tuple[int, Any, dict[str, str]]:
        ans = json.dumps({"label": label})
        limit = int(req["max_tokens"])
        body = completion(ans[:limit])
        if len(ans) > limit:
            body["choices"][0]["finish_reason"] = "length"
        return 200, body, {}

    return behave


def test_answer_token_limit_fits_the_longest_class_in_the_schema() -> None:
    from truelabel.sources import answer_token_limit

    classes = ["ok", "failed_transfer", "verify_my_identity"]
    want = len(json.dumps({"label": "verify_my_identity"}).encode())
    assert answer_token_limit(classes) == want + 16
    assert answer_token_limit(["日本語のラベル"]) > len('{"label": "日本語のラベル"}')  # bytes


def test_default_max_tokens_is_never_cut_and_a_short_one_is_reported(tmp_path: Path) -> None:
    classes = ["ok", "failed_transfer"]
    texts = ["my transfer failed", "all good", "it failed again"]
    with FlakyServer(_cutting_server("failed_transfer")) as srv:
        res = _labeler(srv.url, tmp_path).label(texts, classes)
        assert res.stats["n_truncated"] == 0 and res.stats["n_votes"] == 3
        assert srv.requests[0]["max_tokens"] == res.stats["max_tokens"] >= 44
        short = _labeler(srv.url, tmp_path, max_tokens=16).label(texts, classes)
    assert short.stats["n_truncated"] == 3 and short.stats["n_votes"] == 0
    assert short.answers["truncated"].all()
    assert short.answers["raw"].iloc[0] == '{"label": "faile'


def test_cli_says_answers_were_cut_off(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": ["my transfer failed", "all good"]}).to_csv(data, index=False)
    args = ["label", str(data), "--text-column", "text", "--classes", "ok,failed_transfer"]
    args += ["--featurizer", "tfidf", "--llm-cache", str(tmp_path / "c.sqlite")]
    with FlakyServer(_cutting_server("failed_transfer")) as srv:
        r = CliRunner().invoke(
            app, [*args, "--llm-base-url", srv.url, "--llm-max-tokens", "16", "--out",
                  str(tmp_path / "r1")],
        )  # fmt: skip
        assert r.exit_code == 1
        assert "cut off at the token limit" in r.output and "--llm-max-tokens" in r.output
        assert not (tmp_path / "r1").exists()
        r = CliRunner().invoke(
            app, [*args, "--llm-base-url", srv.url, "--out", str(tmp_path / "r2")]
        )
    assert r.exit_code == 0, r.output
    assert "cut off" not in r.output
    summary = json.loads((tmp_path / "r2" / "summary.json").read_text())
    assert summary["n_truncated"] == 0 and summary["n_votes"] == 2
    assert (tmp_path / "r2" / "report.html").is_file()
