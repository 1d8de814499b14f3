"""Bad token inputs (issue 17): `audit --task token`, `train --task token`, `predict` on a
token model and `aggregate --label-type spans` refuse with one line, no traceback and no
file changed (``cli_helpers.refused``), in a small folder of their own (no model training
needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_helpers import refused

GOOD = "EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "good.conll").write_text(GOOD)
    (tmp_path / "empty.conll").write_bytes(b"")
    (tmp_path / "notag.conll").write_text("EU B-ORG\nrejects\n")
    (tmp_path / "prefix.conll").write_text("EU X-ORG\n")
    (tmp_path / "mixed.conll").write_text("EU B-ORG\nrejects O\nGerman MISC\n")
    (tmp_path / "latin1.conll").write_bytes("café B-LOC\n".encode("latin-1"))
    rng = np.random.default_rng(7)
    (tmp_path / "garbage.conll").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (tmp_path / "dir.conll").mkdir()
    (tmp_path / "docs.csv").write_text("item_id,text\nd1,adults with asthma\n")
    (tmp_path / "spans_far.csv").write_text("item_id,source,start,end,label\nd1,w1,0,400,P\n")
    (tmp_path / "spans_item.csv").write_text("item_id,source,start,end,label\nd9,w1,0,6,P\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("nope.conll", r"no such file"),
        ("dir.conll", r"directory"),
        ("empty.conll", r"no tokens"),
        ("notag.conll", r"line 2: .* no tag column"),
        ("prefix.conll", r"line 1: tag 'X-ORG' has an unknown prefix"),
        ("mixed.conll", r"one tag scheme"),
        ("latin1.conll", r"UTF-8"),
        ("garbage.conll", r"UTF-8"),
    ],
)
@pytest.mark.parametrize("command", ["audit", "train"])
def test_bad_conll_is_refused(folder: Path, command: str, name: str, expect: str) -> None:
    refused([command, name, "--task", "token", "--out", "out"], expect, code=2)


def test_out_may_not_be_the_input(folder: Path) -> None:
    refused(["audit", "good.conll", "--task", "token", "--out", "."], r"--out", code=2)


def test_options_of_another_task(folder: Path) -> None:
    refused(
        ["audit", "good.conll", "--task", "token", "--featurizer", "tfidf", "--out", "out"],
        r"featurizer",
        code=2,
    )
    refused(["train", "good.conll", "--task", "token", "--loss", "gce", "--out", "m"], r"--loss")


@pytest.mark.parametrize(
    ("votes", "expect"),
    [("spans_far.csv", r"row 0: span \[0, 400\) does not fit"), ("spans_item.csv", r"'d9'")],
)
def test_bad_span_votes_are_refused(folder: Path, votes: str, expect: str) -> None:
    refused(
        ["aggregate", votes, "--label-type", "spans", "--data", "docs.csv", "--out", "out"],
        expect,
        code=2,
    )
