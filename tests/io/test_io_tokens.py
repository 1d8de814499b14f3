"""CoNLL/IOB and span-table readers: hand-checked fixtures, schemes, errors, real files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _shared import shared_path
from truelabel import InputError
from truelabel.io import TokenDataset, load_conll, load_span_table, parse_conll
from truelabel.io._tokens import spans_to_tags, tags_to_spans

# Two documents, three sentences; the tag is the last of four columns (CoNLL-2003 style).
CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
1996-08-22 CD I-NP O
"""


def names(ds: TokenDataset) -> list[str]:
    assert ds.tags is not None
    return [ds.tag_names[t] for t in ds.tags]


def test_conll_sentences_docs_and_tags() -> None:
    ds = parse_conll(CONLL)
    # DOCSTART lines are separators, not sentences: 3 sentences of 4, 2 and 2 tokens
    assert ds.n_sentences == 3
    assert ds.offsets.tolist() == [0, 4, 6, 8]
    assert ds.doc.tolist() == [0, 0, 1]
    assert ds.tokens.tolist() == [
        "EU", "rejects", "German", "call", "Peter", "Blackburn", "BRUSSELS", "1996-08-22",
    ]  # fmt: skip
    assert ds.tag_names == [
        "O",
        "B-LOC",
        "I-LOC",
        "B-MISC",
        "I-MISC",
        "B-ORG",
        "I-ORG",
        "B-PER",
        "I-PER",
    ]
    assert names(ds) == ["B-ORG", "O", "B-MISC", "O", "B-PER", "I-PER", "B-LOC", "O"]
    assert ds.scheme == "IOB2" and ds.file_tags is None
    assert ds.line is not None and ds.line.tolist() == [3, 4, 5, 6, 8, 9, 13, 14]
    assert ds.sentence_of_token().tolist() == [0, 0, 0, 0, 1, 1, 2, 2]
    assert ds.token_index().tolist() == [0, 1, 2, 3, 0, 1, 0, 1]


def test_iob1_is_converted_to_iob2() -> None:
    # IOB1: entities start with I-; B- only splits two adjacent entities of one type.
    text = "a I-PER\nb I-PER\nc B-PER\nd O\ne I-LOC\n"
    ds = parse_conll(text)
    assert ds.scheme == "IOB1"
    assert names(ds) == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert ds.file_tags is not None and ds.file_tags.tolist()[0] == "I-PER"


def test_bioes_and_io_are_converted() -> None:
    ds = parse_conll("a S-LOC\nb B-PER\nc E-PER\nd O\n")
    assert ds.scheme == "BIOES"
    assert names(ds) == ["B-LOC", "B-PER", "I-PER", "O"]
    ds = parse_conll("a PER\nb PER\nc O\nd LOC\n")
    assert ds.scheme == "IO"
    assert names(ds) == ["B-PER", "I-PER", "O", "B-LOC"]


def test_a_stray_i_in_iob2_stays_for_the_audit() -> None:
    # mostly IOB2 (two B- starts), one I- after O: kept as given (an annotation slip)
    ds = parse_conll("a B-PER\nb O\nc I-PER\nd B-LOC\n")
    assert ds.scheme == "IOB2"
    assert names(ds) == ["B-PER", "O", "I-PER", "B-LOC"]
    assert ds.tags is not None
    # conlleval reads the stray I- as an entity start
    s, e, t = tags_to_spans(ds.tags, ds.offsets)
    assert list(zip(s.tolist(), e.tolist(), t.tolist(), strict=True)) == [
        (0, 1, 1),
        (2, 3, 1),
        (3, 4, 0),
    ]


def test_tabs_keep_spaces_inside_tokens() -> None:
    ds = parse_conll("New York\tB-LOC\nis\tO\n")
    assert ds.tokens.tolist() == ["New York", "is"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("EU\nrejects O\n", r"line 1: 'EU' has no tag column"),
        ("a X-PER\n", r"line 1: tag 'X-PER' has an unknown prefix"),
        ("a B-\n", r"line 1: tag 'B-' has no entity type"),
        ("a PER\nb B-LOC\n", r"line 1: tag 'PER' has no B-/I- prefix but line 2 has 'B-LOC'"),
        ("\n\n-DOCSTART- O\n", r"no tokens found"),
    ],
)
def test_bad_conll_names_the_line(text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_conll(text, name="f.conll")


def test_unknown_tag_against_a_model_tag_list() -> None:
    with pytest.raises(InputError, match="'B-DATE' is not one of the model's tags"):
        parse_conll("a B-DATE\n", tag_names=["O", "B-PER", "I-PER"])


def test_tags_to_spans_hand_checked() -> None:
    # O B-t0 I-t0 | I-t1 I-t1 B-t1 ; sentence break between token 2 and 3
    tags = np.array([0, 1, 2, 4, 4, 3])
    s, e, t = tags_to_spans(tags, np.array([0, 3, 6]))
    assert s.tolist() == [1, 3, 5] and e.tolist() == [3, 5, 6] and t.tolist() == [0, 1, 1]
    # an I- continuing across a sentence break starts a new entity
    s, e, _ = tags_to_spans(np.array([1, 2, 2]), np.array([0, 2, 3]))
    assert s.tolist() == [0, 2] and e.tolist() == [2, 3]


@settings(deadline=None, max_examples=200)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=40), st.integers(1, 5))
def test_spans_round_trip(codes: list[int], n_sent: int) -> None:
    """tags -> spans -> tags is the identity on the valid IOB2 reading of any tag list."""
    tags = np.asarray(codes)
    cuts = np.unique(np.r_[0, np.linspace(0, len(tags), n_sent + 1).astype(int), len(tags)])
    s, e, t = tags_to_spans(tags, cuts)
    back = spans_to_tags(s, e, t, len(tags))
    s2, e2, t2 = tags_to_spans(back, cuts)
    assert (s2 == s).all() and (e2 == e).all() and (t2 == t).all()
    # entities never cross sentences and never overlap
    assert (np.searchsorted(cuts, s, "right") == np.searchsorted(cuts, e - 1, "right")).all()
    assert (s[1:] >= e[:-1]).all()


def test_span_table_hand_checked(tmp_path) -> None:
    data = pd.DataFrame({"id": ["a", "b"], "text": ["Dr. Jane Doe met ACME Corp.", "nothing here"]})
    spans = pd.DataFrame(
        {
            "item_id": ["a", "a", "a"],
            "start": [4, 17, 4],  # "Jane Doe", "ACME Corp" and an overlapping "Jane"
            "end": [12, 26, 8],
            "label": ["PER", "ORG", "PER"],
        }
    )
    ds = load_span_table(data, spans, id_column="id")
    assert ds.tokens.tolist()[:7] == ["Dr", ".", "Jane", "Doe", "met", "ACME", "Corp"]
    assert names(ds)[:8] == ["O", "O", "B-PER", "I-PER", "O", "B-ORG", "I-ORG", "O"]
    assert ds.item_ids is not None and ds.item_ids.tolist() == ["a", "b"]
    assert any("overlapped" in n for n in ds.notes)
    # a span cut inside a word is widened to the word, with a note
    ds = load_span_table(
        data,
        pd.DataFrame({"item_id": ["a"], "start": [5], "end": [10], "label": ["PER"]}),
        id_column="id",
    )
    assert names(ds)[2:4] == ["B-PER", "I-PER"] and any("widened" in n for n in ds.notes)
    # the usual other spellings of (item, start, end, label): the data's id column or
    # "item" for the item, "type" for the label
    want = names(load_span_table(data, spans, id_column="id"))
    for item_col in ("id", "item"):
        renamed = spans.rename(columns={"item_id": item_col, "label": "type"})
        assert names(load_span_table(data, renamed, id_column="id")) == want


@pytest.mark.parametrize(
    ("spans", "match"),
    [
        ({"item_id": ["z"], "start": [0], "end": [2], "label": ["PER"]}, r"item 'z' is not in"),
        (
            {"item_id": ["a"], "start": [3], "end": [99], "label": ["PER"]},
            r"row 0: span \[3, 99\) does not fit",
        ),
        ({"item_id": ["a"], "start": [0], "end": [2]}, r"missing column\(s\) \['label'\]"),
    ],
)
def test_bad_span_table(spans: dict, match: str) -> None:
    data = pd.DataFrame({"id": ["a"], "text": ["Jane Doe"]})
    with pytest.raises(InputError, match=match):
        load_span_table(data, pd.DataFrame(spans), id_column="id")


def test_real_conll_dev_matches_the_aligned_table() -> None:
    path = shared_path("token", "conll2003", "original", "dev.txt.gz")
    ds = load_conll(path)
    a = pd.read_csv(
        shared_path("token", "conll2003", "aligned", "dev_aligned.csv.gz"), keep_default_na=False
    )
    a = a[a["token"] != "-DOCSTART-"]
    assert ds.n_tokens == len(a) == 51362
    assert ds.n_sentences == a.groupby(["doc", "sent"]).ngroups == 3250
    assert (ds.tokens == a["token"].to_numpy()).all()
    assert (np.asarray(names(ds)) == a["ner_original"].to_numpy()).all()
    assert ds.tags is not None
    assert len(tags_to_spans(ds.tags, ds.offsets)[0]) == 5942  # CoNLL-2003 dev entities
