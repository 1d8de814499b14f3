"""The static (model2vec-style) embedding: distillation, cache, speed-independent properties."""

from __future__ import annotations

import numpy as np
import pytest
from featurize_seed import seed_models
from hypothesis import given, settings
from hypothesis import strategies as st

from _shared import shared_path
from truelabel import InputError
from truelabel.featurize import cache_dir, featurize
from truelabel.featurize._static import StaticFeaturizer

#: Tests distill only the 3,000 most frequent tokens (the default is the whole vocabulary).
VOCAB = 3000

TEXTS = [
    "How do I reset my password?",
    "I forgot my password, how can I change it?",
    "The football match ended in a draw.",
    "",
    "   ",
    "zzzqqq ###",
    "Why was my card payment declined at the shop?",
]


@pytest.fixture(scope="module", autouse=True)
def _seed_models(tmp_path_factory: pytest.TempPathFactory) -> None:
    seed_models(tmp_path_factory.getbasetemp() / "cache" / "models")


_STATIC: list[StaticFeaturizer] = []


@pytest.fixture(scope="module")
def static() -> StaticFeaturizer:
    if not _STATIC:
        _STATIC.append(StaticFeaturizer(vocab_size=VOCAB))
    return _STATIC[0]


def test_shape_dtype_unit_norm(static: StaticFeaturizer) -> None:
    X = static.transform(TEXTS)
    assert X.shape == (len(TEXTS), 256) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    # texts without tokens get the distilled empty-text vector
    np.testing.assert_array_equal(X[3], X[4])


def test_empty_input(static: StaticFeaturizer) -> None:
    assert static.transform([]).shape == (0, 256)


def test_deterministic(static: StaticFeaturizer) -> None:
    np.testing.assert_array_equal(static.transform(TEXTS), static.transform(TEXTS))


def test_paraphrases_closer_than_unrelated(static: StaticFeaturizer) -> None:
    triples = [
        (
            "How do I reset my password?",
            "I forgot my password, how can I change it?",
            "The football match ended in a draw.",
        ),
        (
            "The stock market fell sharply today.",
            "Shares dropped steeply on the market.",
            "I love baking chocolate cakes.",
        ),
        (
            "My card payment was declined.",
            "The shop refused my card.",
            "What time does the train leave?",
        ),
    ]
    for a, b, c in triples:
        X = static.transform([a, b, c])
        assert X[0] @ X[1] > X[0] @ X[2] and X[0] @ X[1] > X[1] @ X[2]


@settings(deadline=None, max_examples=25)
@given(
    st.lists(st.text(alphabet="abc xyz!?é", max_size=30), min_size=1, max_size=12),
    st.randoms(use_true_random=False),
)
def test_rows_independent_of_order(static: StaticFeaturizer, texts: list[str], rnd: object) -> None:
    f = static
    perm = list(range(len(texts)))
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    X = f.transform(texts)
    np.testing.assert_array_equal(f.transform([texts[i] for i in perm]), X[perm])
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)


def test_featurize_cache_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    first = featurize(TEXTS, "static", vocab_size=VOCAB)

    def boom(self: StaticFeaturizer, texts: list[str]) -> np.ndarray:
        raise AssertionError("transform called on a cache hit")

    monkeypatch.setattr(StaticFeaturizer, "transform", boom)
    np.testing.assert_array_equal(featurize(TEXTS, "static", vocab_size=VOCAB), first)


def test_table_cached_and_corrupted_table_redistilled(monkeypatch: pytest.MonkeyPatch) -> None:
    from truelabel.featurize import _static

    f = StaticFeaturizer(vocab_size=64, dims=32)
    X = f.transform(TEXTS)
    assert f.model_path.parent == cache_dir() / "models" and f.model_path.exists()
    # second instance reads the file: distillation must not run
    calls: list[int] = []
    real = _static.distill_static_table

    def counting(**kw: object) -> dict[str, np.ndarray]:
        calls.append(1)
        return real(**kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_static, "distill_static_table", counting)
    np.testing.assert_array_equal(StaticFeaturizer(vocab_size=64, dims=32).transform(TEXTS), X)
    assert calls == []
    # corrupt the file: it is distilled again, to the same table
    data = f.model_path.read_bytes()
    f.model_path.write_bytes(data[: len(data) // 3])
    np.testing.assert_allclose(
        StaticFeaturizer(vocab_size=64, dims=32).transform(TEXTS), X, atol=1e-6
    )
    assert calls == [1]


def test_model_id_tracks_options() -> None:
    ids = {
        StaticFeaturizer().model_id,
        StaticFeaturizer(dims=128).model_id,
        StaticFeaturizer(sif_coefficient=1e-3).model_id,
        StaticFeaturizer(vocab_size=VOCAB).model_id,
    }
    assert len(ids) == 4
    assert "vocab" not in StaticFeaturizer().model_id  # the default is the full vocabulary


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dims": 1}, "'dims' parameter"),
        ({"dims": 1000}, "'dims' parameter"),
        ({"sif_coefficient": 0.0}, "'sif_coefficient' parameter"),
        ({"vocab_size": 3}, "'vocab_size' parameter"),
        ({"n_threads": 0}, "'n_threads' parameter"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        StaticFeaturizer(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "texts",
    [
        TEXTS,
        ["one"],
        ["héllo wörld, İstanbul ΣΊΣΥΦΟΣ 中文字", "tabs\tand\nnewlines  here", "a_b-c's"],
        ["separator \ue000 in the data", "x"],  # falls back to the per-text path
        ["file\x1cseparator", "next\x85line"],  # controls str.split() and BERT disagree on
    ],
)
def test_fast_counts_equal_tokenizer_counts(static: StaticFeaturizer, texts: list[str]) -> None:
    fast = static._counts(list(texts))
    direct = static._counts_direct(list(texts))
    assert fast.shape == direct.shape
    assert abs(fast - direct).sum() == 0


@pytest.mark.shared
def test_fast_counts_equal_tokenizer_counts_banking77(static: StaticFeaturizer) -> None:
    import csv

    with open(shared_path("text", "banking77", "test.csv"), newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    assert abs(static._counts(texts) - static._counts_direct(texts)).sum() == 0
