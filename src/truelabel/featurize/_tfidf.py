"""TF-IDF features (scikit-learn), fitted on the corpus being featurized."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["TfidfFeaturizer"]


class TfidfFeaturizer:
    """Word 1–2-gram TF-IDF with sublinear tf, fitted on the texts it transforms.

    Parameters
    ----------
    max_features : int
        Vocabulary size cap.
    min_df : int
        Ignore n-grams in fewer documents.
    """

    name = "tfidf"

    def __init__(self, *, max_features: int = 50_000, min_df: int = 2) -> None:
        self.max_features = max_features
        self.min_df = min_df
        self.model_id = f"tfidf-v1-mf{max_features}-md{min_df}"
        self.vectorizer_: TfidfVectorizer | None = None

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Fit on ``texts`` and return the (N, V) float32 CSR matrix, L2-normalised rows."""
        min_df = self.min_df if len(texts) >= 10 * self.min_df else 1
        vec = TfidfVectorizer(
            max_features=self.max_features,
            min_df=min_df,
            ngram_range=(1, 2),
            sublinear_tf=True,
            dtype=np.float32,
            strip_accents="unicode",
        )
        X = vec.fit_transform(list(texts))
        self.vectorizer_ = vec
        return sp.csr_matrix(X, dtype=np.float32)
