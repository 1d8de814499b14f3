"""TF-IDF features (scikit-learn): fitted on the corpus being featurized, or once on a
stream of chunks and then applied to each chunk with the same vocabulary."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from .._errors import InputError

__all__ = ["TfidfFeaturizer"]

_PARAMS = {"ngram_range": (1, 2), "strip_accents": "unicode"}


class TfidfFeaturizer:
    """Word 1–2-gram TF-IDF with sublinear tf and L2-normalised rows.

    By default :meth:`transform` fits on the texts it transforms (one corpus, one
    vocabulary). For data read in chunks, :meth:`fit_chunks` fits the vocabulary and idf
    once in a first pass over every chunk; afterwards :meth:`transform` applies that same
    vocabulary to any texts, so all chunks share one feature space.

    Parameters
    ----------
    max_features : int
        Vocabulary size cap.
    min_df : int
        Ignore n-grams in fewer documents (1 on corpora of under ``10 * min_df`` texts).
    """

    name = "tfidf"

    def __init__(self, *, max_features: int = 50_000, min_df: int = 2) -> None:
        self.max_features = max_features
        self.min_df = min_df
        self.model_id = f"tfidf-v1-mf{max_features}-md{min_df}"
        self.vectorizer_: TfidfVectorizer | None = None
        self.fitted_ = False

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The (N, V) float32 CSR matrix of ``texts``, L2-normalised rows.

        Fits on ``texts`` unless :meth:`fit_chunks` fixed the vocabulary.
        """
        if self.fitted_ and self.vectorizer_ is not None:
            return sp.csr_matrix(self.vectorizer_.transform(list(texts)), dtype=np.float32)
        min_df = self.min_df if len(texts) >= 10 * self.min_df else 1
        vec = TfidfVectorizer(
            max_features=self.max_features,
            min_df=min_df,
            sublinear_tf=True,
            dtype=np.float32,
            **_PARAMS,  # type: ignore[arg-type]
        )
        X = vec.fit_transform(list(texts))
        self.vectorizer_ = vec
        return sp.csr_matrix(X, dtype=np.float32)

    def fit_chunks(
        self, chunks: Iterable[Sequence[str]], *, max_terms: int = 2_000_000
    ) -> TfidfFeaturizer:
        """Fit the vocabulary and idf in one pass over chunks of texts.

        Document frequencies are summed over the chunks; the ``max_features`` n-grams in
        most documents (at least ``min_df``; ties by the n-gram) form the vocabulary, with
        scikit-learn's smoothed idf ``ln((1 + n) / (1 + df)) + 1``. Memory holds one chunk
        and the running counts; when those exceed ``max_terms`` n-grams, the ones seen in
        a single document so far are dropped (their later counts then start again).

        Parameters
        ----------
        chunks : iterable of sequences of str
            The whole corpus, chunk by chunk (e.g. one chunk of a large table at a time).
        max_terms : int
            Bound on the running document-frequency table.

        Returns
        -------
        self
        """
        n_docs = 0
        counts: pd.Series | None = None
        for chunk in chunks:
            texts = list(chunk)
            if not texts:
                continue
            n_docs += len(texts)
            cv = CountVectorizer(binary=True, dtype=np.int64, **_PARAMS)  # type: ignore[arg-type]
            try:
                M = cv.fit_transform(texts)
            except ValueError:  # this chunk has no word of 2+ characters
                continue
            part = pd.Series(np.asarray(M.sum(axis=0)).ravel(), index=cv.get_feature_names_out())
            counts = part if counts is None else counts.add(part, fill_value=0)
            if len(counts) > max_terms:
                counts = counts[counts > 1]
        if counts is None or counts.empty:
            raise InputError(
                "tfidf: the texts contain no word of two or more characters; use another "
                "--featurizer (static, minilm) or check the --text-column."
            )
        min_df = self.min_df if n_docs >= 10 * self.min_df else 1
        kept = counts[counts >= min_df]
        if kept.empty:
            kept = counts
        terms = kept.index.to_numpy(dtype=str)
        order = np.lexsort((terms, -kept.to_numpy(dtype=np.float64)))[: self.max_features]
        vocab = np.sort(terms[order])
        df = kept.reindex(vocab).to_numpy(dtype=np.float64)
        vec = TfidfVectorizer(
            vocabulary={t: i for i, t in enumerate(vocab.tolist())},
            sublinear_tf=True,
            dtype=np.float32,
            **_PARAMS,  # type: ignore[arg-type]
        )
        vec.idf_ = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        self.vectorizer_ = vec
        self.fitted_ = True
        digest = hashlib.sha256("\n".join(vocab.tolist()).encode("utf-8")).hexdigest()[:12]
        self.model_id = f"tfidf-v1-mf{self.max_features}-md{self.min_df}-fit{digest}"
        return self
