"""Helpers of the scale tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import numpy as np


def noisy_probs(n: int, k: int, seed: int, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Labels (N,) with ``noise`` of them resampled and float32 probabilities (N, K)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) * 2
    logits[np.arange(n), y] += 2
    given = np.where(rng.random(n) < noise, rng.integers(0, k, n), y)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return given, p.astype(np.float32)


class HashFeaturizer:
    """A stateless, deterministic featurizer for tests (hashed bag of words, 64 dims)."""

    name = "testhash"
    model_id = "testhash-64"

    def transform(self, texts: list[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(n_features=64, alternate_sign=False, norm="l2")
        return vec.transform(list(texts)).toarray().astype(np.float32)


def word_table(
    n: int = 2000, noise: float = 0.1, seed: int = 0
) -> tuple[object, np.ndarray, np.ndarray]:
    """A 3-class text table with ``noise`` of labels resampled: (DataFrame, true, given)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    words = [
        ["cat", "dog", "pet", "fur"],
        ["car", "road", "wheel", "engine"],
        ["sun", "rain", "cloud", "wind"],
    ]
    y = rng.integers(0, 3, n)
    texts = [" ".join(rng.choice(words[c], 5)) + f" w{rng.integers(0, 50)}" for c in y]
    given = np.where(rng.random(n) < noise, rng.integers(0, 3, n), y)
    df = pd.DataFrame(
        {
            "id": [f"doc{i}" for i in range(n)],
            "text": texts,
            "label": np.array(["animal", "road", "weather"])[given],
        }
    )
    return df, y, given
