"""Reading LLM answers for multi-label tags and entity spans (issue 17, part 4).

The span validator is the line between what an LLM says and what truelabel writes: a
kept span must be exactly ``text[start:end]``, whatever offsets, case or garbage the
model sent. Hypothesis checks that invariant on random texts and random (often wrong)
answers; the examples pin each repair/reject rule.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel.sources._llm import parse_answer
from truelabel.sources._llm_answers import (
    match_labels,
    parse_json_answer,
    repair_spans,
    spans_of_answer,
)

TYPES = ["PER", "ORG", "LOC", "MISC"]
TEXT = "Paris Hilton flew from Paris to Berlin with Lufthansa ."


def test_exact_offsets_are_kept() -> None:
    chk = repair_spans(TEXT, [{"text": "Berlin", "label": "LOC", "start": 32}], TYPES)
    assert (chk.start, chk.end, chk.label, chk.text) == ([32], [38], ["LOC"], ["Berlin"])
    assert chk.n_exact == 1 and chk.n_repaired == 0 and chk.n_rejected == 0


def test_wrong_offset_is_repaired_to_the_nearest_occurrence() -> None:
    # "Paris" occurs at 0 and 23; start 20 is nearest to 23
    chk = repair_spans(TEXT, [{"text": "Paris", "label": "LOC", "start": 20}], TYPES)
    assert chk.start == [23] and chk.n_repaired == 1
    # no start at all: the first free occurrence
    chk = repair_spans(TEXT, [{"text": "Lufthansa", "label": "ORG"}], TYPES)
    assert chk.start == [TEXT.index("Lufthansa")] and chk.n_repaired == 1


def test_repeated_mention_takes_the_free_occurrence() -> None:
    # both mentions given with the same wrong offset: each gets its own occurrence
    spans = [
        {"text": "Paris", "label": "LOC", "start": 3},
        {"text": "Paris", "label": "LOC", "start": 3},
    ]
    chk = repair_spans(TEXT, spans, TYPES)
    assert chk.start == [0, 23] and chk.rejected["overlap"] == 0


def test_case_insensitive_fallback_keeps_the_text_as_written() -> None:
    chk = repair_spans(TEXT, [{"text": "BERLIN", "label": "loc", "start": 0}], TYPES)
    assert chk.text == ["Berlin"] and chk.label == ["LOC"] and chk.n_repaired == 1


def test_rejections_are_counted_by_reason() -> None:
    spans = [
        {"text": "Tokyo", "label": "LOC", "start": 0},  # not in the text
        {"text": "Berlin", "label": "CITY", "start": 32},  # unknown label
        {"label": "PER"},  # no text
        "Berlin",  # not an object
        {"text": "Paris Hilton", "label": "PER", "start": 0},
        {"text": "Hilton", "label": "PER", "start": 6},  # inside the span before
    ]
    chk = repair_spans(TEXT, spans, TYPES)
    assert chk.rejected == {"malformed": 2, "unknown_label": 1, "not_found": 1, "overlap": 1}
    assert chk.text == ["Paris Hilton"] and chk.n_given == 6


def test_overlaps_resolve_the_same_whatever_the_order() -> None:
    a = {"text": "Paris Hilton", "label": "PER", "start": 0}
    b = {"text": "Paris", "label": "LOC", "start": 0}
    one = repair_spans(TEXT, [a, b], TYPES)
    two = repair_spans(TEXT, [b, a], TYPES)
    assert (
        one.to_records()
        == two.to_records()
        == [{"start": 0, "end": 12, "label": "PER", "text": "Paris Hilton"}]
    )


def test_parse_json_answer_tolerates_fences_and_prose() -> None:
    assert parse_json_answer('```json\n{"labels": ["a"]}\n```') == {"labels": ["a"]}
    assert parse_json_answer("Sure! [1, 2] hope that helps") == [1, 2]
    assert parse_json_answer("no json here") is None
    assert parse_json_answer('{"entities": [{"text": "x"') is None
    assert spans_of_answer({"entities": []}) == [] and spans_of_answer({"x": 1}) is None


def test_match_labels_repairs_case_and_rejects_unknown() -> None:
    classes = ["billing", "urgent", "bug report"]
    assert match_labels('["Urgent", " bug  report", "billing"]', classes) == (
        ["billing", "urgent", "bug report"],
        2,
        0,
    )
    assert match_labels('{"labels": ["billing", "spam"]}', classes) == (["billing"], 0, 1)
    assert match_labels("[]", classes) == ([], 0, 0)  # none applies: an answer, not abstain
    assert match_labels('["spam"]', classes) == (None, 0, 1)  # only unknown: abstain
    assert match_labels("billing, urgent", classes) == (["billing", "urgent"], 0, 0)
    assert match_labels('{"labels": ', classes) == (None, 0, 0)
    assert match_labels(None, classes) == (None, 0, 0)


def test_parse_answer_token_counts() -> None:
    raw = json.dumps({"entities": [{"text": "berlin", "label": "LOC", "start": 1}]})
    lab, counts = parse_answer(raw, TYPES, "token", TEXT)
    assert lab is not None and json.loads(lab)[0]["text"] == "Berlin"
    assert counts["n_spans_repaired"] == 1 and counts["n_spans_given"] == 1
    assert parse_answer("garbage", TYPES, "token", TEXT) == (None, {})


words = st.sampled_from(["Paris", "paris", "Berlin", "Hilton", "the", "a", "IBM", "ibm", "x"])


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[object]]:
    toks = draw(st.lists(words, min_size=1, max_size=12))
    text = " ".join(toks)
    spans: list[object] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 4))
        if kind == 0:  # a true span, exact offsets
            i = draw(st.integers(0, len(text) - 1))
            j = draw(st.integers(i + 1, len(text)))
            spans.append({"text": text[i:j], "label": draw(st.sampled_from(TYPES)), "start": i})
        elif kind == 1:  # text from the item, offset anywhere
            spans.append(
                {
                    "text": draw(words).upper() if draw(st.booleans()) else draw(words),
                    "label": draw(st.sampled_from(TYPES + ["per", "DATE"])),
                    "start": draw(st.integers(-5, len(text) + 5)),
                }
            )
        elif kind == 2:  # anything
            spans.append(
                {"text": draw(st.text(max_size=6)), "label": "ORG", "start": draw(st.integers())}
            )
        elif kind == 3:
            spans.append(draw(st.one_of(st.none(), st.integers(), st.text(max_size=4))))
        else:
            spans.append({"label": "PER", "start": draw(st.floats(allow_nan=False))})
    return text, spans


@settings(max_examples=300, deadline=None)
@given(text_and_spans())
def test_every_kept_span_is_its_text(case: tuple[str, list[object]]) -> None:
    text, spans = case
    chk = repair_spans(text, spans, TYPES)
    for s, e, lab, t in zip(chk.start, chk.end, chk.label, chk.text, strict=True):
        assert 0 <= s < e <= len(text)
        assert text[s:e] == t and t.strip() == t
        assert lab in TYPES
    # sorted, never overlapping, every span accounted for exactly once
    assert all(e <= s for e, s in zip(chk.end, chk.start[1:], strict=False))
    assert chk.n_exact + chk.n_repaired == len(chk.start) + chk.rejected["overlap"]
    assert len(chk.start) + chk.n_rejected == chk.n_given
    # deterministic
    assert repair_spans(text, spans, TYPES).to_records() == chk.to_records()


def test_cut_off_answers_keep_their_complete_parts() -> None:
    # an answer stopped at max_tokens: the complete spans / names still count
    raw = '{"entities": [{"text": "Berlin", "label": "LOC", "start": 30}, {"text": "Pa'
    lab, counts = parse_answer(raw, TYPES, "token", TEXT)
    assert lab is not None and [s["text"] for s in json.loads(lab)] == ["Berlin"]
    assert counts["n_answers_salvaged"] == 1 and counts["n_spans_repaired"] == 1
    assert match_labels('{"labels": ["billing", "urg', ["billing", "urgent"]) == (["billing"], 0, 0)
