"""TF-IDF fitted once over chunks gives every chunk the same feature space (issue 14:
`scale audit --featurizer tfidf` crashed because each chunk fitted its own vocabulary)."""

from __future__ import annotations

import numpy as np
import pytest

from truelabel import InputError
from truelabel.featurize import TfidfFeaturizer

TEXTS = [
    "the cat sat on the mat",
    "a dog and a cat",
    "stock prices fell sharply",
    "the market rallied on earnings",
    "my dog chased the cat",
    "earnings beat the forecast",
] * 5


def test_fit_chunks_equals_one_fit_on_the_whole_corpus() -> None:
    whole = TfidfFeaturizer(min_df=1).transform(TEXTS)
    chunked = TfidfFeaturizer(min_df=1).fit_chunks([TEXTS[:7], TEXTS[7:19], TEXTS[19:]])
    # the vocabulary is fixed: each chunk alone maps into the same columns
    parts = [chunked.transform(TEXTS[i : i + 10]).toarray() for i in range(0, len(TEXTS), 10)]
    np.testing.assert_allclose(np.vstack(parts), whole.toarray(), atol=1e-6)
    assert chunked.transform(["an unseen word only"]).shape[1] == whole.shape[1]


def test_fit_chunks_caps_the_vocabulary_by_document_frequency() -> None:
    f = TfidfFeaturizer(max_features=3, min_df=1).fit_chunks([TEXTS])
    assert f.vectorizer_ is not None
    # documents per n-gram: "the" 4 of 6 texts, "cat" 3, then a tie at 2 ("dog", "earnings",
    # "on", "the cat" …) broken alphabetically: "dog"
    assert sorted(f.vectorizer_.vocabulary_) == ["cat", "dog", "the"]
    assert f.model_id.startswith("tfidf-v1-mf3-md1-fit")


def test_fit_chunks_without_words_is_refused() -> None:
    with pytest.raises(InputError, match="no word of two or more characters"):
        TfidfFeaturizer().fit_chunks([["a", "b"], ["!"]])
