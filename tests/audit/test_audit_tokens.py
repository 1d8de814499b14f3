"""Token and entity label issues: hand-checked kinds, valid decoding, the audit on CoNLL."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _shared import shared_path
from truelabel import InputError
from truelabel.audit import (
    ENTITY_ISSUE_KINDS,
    audit_task,
    audit_tokens,
    decode_tags,
    find_entity_issues,
    get_token_label_quality,
)
from truelabel.audit._token_api import WEAK_TAGGER_F1, entity_agreement_f1
from truelabel.io import parse_conll

# tag layout: 0 O, 1 B-LOC, 2 I-LOC, 3 B-PER, 4 I-PER
K = 5


def one_hot(codes: list[int], p: float = 0.9) -> np.ndarray:
    """Probabilities that put ``p`` on the given code and spread the rest evenly."""
    out = np.full((len(codes), K), (1 - p) / (K - 1))
    out[np.arange(len(codes)), codes] = p
    return out


def kinds(given: list[int], suggested: list[int]) -> list[str]:
    ent = find_entity_issues(
        np.array(given),
        one_hot(suggested),
        np.array([0, len(given)]),
        suggested=np.array(suggested),
    )
    return [ENTITY_ISSUE_KINDS[k] for k in ent.kind]


def test_entity_issue_kinds_hand_checked() -> None:
    # same span, same type -> none; same span other type -> wrong_type
    assert kinds([0, 1, 2, 0], [0, 1, 2, 0]) == ["none"]
    assert kinds([0, 1, 2, 0], [0, 3, 4, 0]) == ["wrong_type"]
    # same type, one token longer -> boundary; longer and other type -> boundary_and_type
    assert kinds([0, 1, 0, 0], [0, 1, 2, 0]) == ["boundary"]
    assert kinds([0, 1, 0, 0], [0, 3, 4, 0]) == ["boundary_and_type"]
    # nothing given where an entity is suggested -> missing; the reverse -> spurious
    assert kinds([0, 0, 0, 0], [0, 3, 4, 0]) == ["missing"]
    assert kinds([0, 3, 4, 0], [0, 0, 0, 0]) == ["spurious"]
    # one given entity split in two suggested ones of its type -> boundary (one region)
    assert kinds([1, 2, 2, 2], [1, 2, 1, 2]) == ["boundary"]
    # two separate regions, each judged on its own
    assert kinds([1, 0, 0, 3], [1, 0, 0, 1]) == ["none", "wrong_type"]


def test_region_quality_is_its_least_likely_token() -> None:
    given = np.array([0, 1, 2, 0])
    probs = one_hot([0, 1, 2, 0])
    probs[2] = [0.05, 0.05, 0.3, 0.05, 0.55]  # the model doubts the I-LOC
    ent = find_entity_issues(given, probs, np.array([0, 4]))
    assert ent.start.tolist() == [1] and ent.end.tolist() == [3]
    assert ent.quality[0] == pytest.approx(0.3)
    # argmax says I-PER, which cannot follow B-LOC: the valid decoding keeps I-LOC (0.3 beats
    # O and B-PER at 0.05), so the region is doubtful but the suggestion agrees
    assert ENTITY_ISSUE_KINDS[ent.kind[0]] == "none"
    np.testing.assert_allclose(get_token_label_quality(given, probs), [0.9, 0.9, 0.3, 0.9])


@settings(deadline=None, max_examples=150)
@given(st.lists(st.lists(st.floats(0.01, 1.0), min_size=K, max_size=K), min_size=1, max_size=25))
def test_decoded_tags_are_valid_iob2(rows: list[list[float]]) -> None:
    probs = np.asarray(rows)
    probs /= probs.sum(axis=1, keepdims=True)
    tags = decode_tags(probs, np.array([0, len(rows)]))
    prev = np.r_[0, tags[:-1]]
    inside = (tags > 0) & (tags % 2 == 0)
    # I-t only after B-t or I-t
    assert np.all(~inside | ((prev == tags) | (prev == tags - 1)))


def test_decoding_fixes_a_stray_inside_tag() -> None:
    # argmax would be O, I-LOC: invalid; the best valid reading is O, B-LOC
    probs = np.array([[0.9, 0.02, 0.04, 0.02, 0.02], [0.1, 0.35, 0.45, 0.05, 0.05]])
    assert decode_tags(probs, np.array([0, 2])).tolist() == [0, 1]


def test_bad_probability_shapes() -> None:
    with pytest.raises(InputError, match="one row of tag probabilities per token"):
        find_entity_issues(np.array([0, 1]), np.ones((3, K)) / K, np.array([0, 2]))
    with pytest.raises(InputError, match="odd number"):
        find_entity_issues(np.array([0, 1]), np.ones((2, 4)) / 4, np.array([0, 2]))


def test_audit_with_given_probabilities_writes_the_contract(tmp_path) -> None:
    text = "EU B-ORG\nrejects O\nGerman B-MISC\n\nPeter B-PER\nBlackburn I-PER\n"
    ds = parse_conll(text)
    path = tmp_path / "tiny.conll"
    path.write_text("-DOCSTART- -X- O\n\n" + text)
    assert ds.tags is not None
    probs = np.full((ds.n_tokens, len(ds.tag_names)), 0.01)
    probs[np.arange(ds.n_tokens), ds.tags] = 0.9
    probs[2] = 0.01
    probs[2, ds.tag_names.index("B-PER")] = 0.9  # the model says German is a person
    probs /= probs.sum(axis=1, keepdims=True)
    res = audit_task("token", path, pred_probs=probs)
    res.save(tmp_path / "run")
    issues = pd.read_parquet(tmp_path / "run" / "issues.parquet")
    cols = ["sentence_id", "token_index", "token", "given_label", "suggested_label"]
    assert cols + ["label_quality", "is_label_issue"] == [
        c for c in issues.columns if c in cols + ["label_quality", "is_label_issue"]
    ]
    assert len(issues) == 5
    top = issues.iloc[0]
    assert (top.sentence_id, top.token_index, top.token) == (0, 2, "German")
    assert (top.given_label, top.suggested_label) == ("B-MISC", "B-PER")
    ent = pd.read_parquet(tmp_path / "run" / "entities.parquet")
    assert ent.iloc[0]["issue"] == "wrong_type" and ent.iloc[0]["text"] == "German"
    assert ent.iloc[0]["given_label"] == "MISC" and ent.iloc[0]["suggested_label"] == "PER"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["n_entities"] == 3 and summary["task"] == "token"
    assert "German" in (tmp_path / "run" / "report.html").read_text()


def test_audit_task_refuses_options_of_another_task(tmp_path) -> None:
    path = tmp_path / "t.conll"
    path.write_text("a B-PER\nb O\n")
    with pytest.raises(InputError, match="--label-column does not apply to `audit --task token`"):
        audit_task("token", path, label_column="y")
    from truelabel._tasks import TaskRegistry

    stage = TaskRegistry("audit")  # a stage without the task names the ones it has
    stage.register("token")(audit_task)
    with pytest.raises(InputError, match="`audit --task regression` is not available yet"):
        stage.get("regression")


def test_audit_on_a_real_conll_slice(tmp_path) -> None:
    """The default audit (cross-fitted CRF, 3 folds) on the first 4,000 lines of CoNLL dev."""
    import gzip

    src = shared_path("token", "conll2003", "original", "dev.txt.gz")
    lines = gzip.open(src, "rt").read().splitlines()[:4000]
    path = tmp_path / "dev_slice.txt"
    path.write_text("\n".join(lines) + "\n")
    res = audit_tokens(path, folds=3)
    s = res.summary
    assert s["n_sentences"] == 314 and s["n_tokens"] == int(res.issues.shape[0]) == 3657
    # the suggestions agree with most given tags (measured 0.887: ~200 training sentences)
    agree = (res.issues["given_label"] == res.issues["suggested_label"]).mean()
    assert agree > 0.86
    ent = res.entities
    assert set(ent["issue"]) <= set(ENTITY_ISSUE_KINDS)
    flagged = ent[ent["is_label_issue"]]
    assert 0 < len(flagged) < 0.3 * len(ent)
    assert (flagged["issue"] != "none").all()
    # 314 sentences are too few for a strong tagger (entity F1 measured 0.568): the summary
    # says so
    f1 = s["entity_agreement_f1"]
    assert 0.0 < f1 < WEAK_TAGGER_F1
    assert any("reproduces only" in n for n in s["notes"])
    # sentence ids count non-DOCSTART sentences from 0 in file order
    assert res.issues["sentence_id"].min() == 0 and res.issues["sentence_id"].max() == 313


def test_entity_agreement_f1_hand_checked() -> None:
    # given: PER [1,2) and LOC [3,5); suggested: PER [1,2) and ORG [3,5) -> 1 of 2 each side
    ent = find_entity_issues(
        np.array([0, 1, 0, 3, 4]),
        np.full((5, 9), 1 / 9),
        np.array([0, 5]),
        suggested=np.array([0, 1, 0, 5, 6]),
    )
    assert entity_agreement_f1(ent) == pytest.approx(0.5)
    none = find_entity_issues(
        np.zeros(3, dtype=int), np.full((3, 3), 1 / 3), np.array([0, 3]), suggested=np.zeros(3)
    )
    assert entity_agreement_f1(none) == 1.0
