"""``static``: a model2vec-style static embedding distilled once from all-MiniLM-L6-v2.

Distillation (once, cached in ``cache_dir()/models/static-….npz``):

1. every token of the MiniLM WordPiece vocabulary (minus ``[PAD]`` and the
   ``[unused…]`` slots) is run through the encoder (the cached int8 ONNX model) alone,
   as ``[CLS] token [SEP]``, and its output is mean-pooled over the three positions;
2. the (V, 384) table is reduced to ``dims`` components by PCA;
3. each row is multiplied by a SIF weight ``a / (a + p(token))``, where ``p`` follows
   Zipf's law over the vocabulary order (WordPiece vocabularies are roughly sorted by
   frequency), so frequent tokens count less — the recipe of model2vec's ``distill``.

A text is then the L2-normalised (weighted) mean of its tokens' rows: one batched
tokenizer call and one sparse (N, V) count matrix times the (V, dims) table.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._types import Float32Array
from .._validation import Interval, check_params
from ._cache import cache_dir
from ._onnx import (
    CLS_ID,
    EMBED_DIM,
    SEP_ID,
    _is_valid,
    _sha256,
    ensure_onnx_model,
    load_session,
    load_tokenizer,
)

__all__ = ["StaticFeaturizer", "distill_static_table"]

logger = logging.getLogger(__name__)

_RECIPE = "v2"
#: Joins texts for one whitespace split; a private-use character no tokenizer input uses.
_SEP_CHAR = "\ue000"
_SEP = f" {_SEP_CHAR} "
#: Characters Python's str.split() treats as whitespace but the BERT normalizer deletes.
_SPLIT_DIFFERS = re.compile("[\x1c-\x1f\x85]")
#: Rows tokenized per call (bounds memory of the intermediate Encoding objects).
_CHUNK = 65_536
_SKIP = re.compile(r"\[unused\d+\]|\[PAD\]")


def _token_rows(tokenizer: Any, vocab_size: int | None) -> tuple[np.ndarray, list[str]]:
    """Ids to distill (sorted) and the full vocabulary, indexed by id."""
    vocab = tokenizer.get_vocab()
    tokens = [""] * tokenizer.get_vocab_size()
    for tok, i in vocab.items():
        tokens[i] = tok
    keep = np.array([i for i, t in enumerate(tokens) if not _SKIP.fullmatch(t)], dtype=np.int64)
    if vocab_size is not None:
        keep = keep[:vocab_size]
    return keep, tokens


def _encode_tokens(
    ids: np.ndarray, *, models_dir: Path, n_threads: int, batch_size: int = 512
) -> np.ndarray:
    """Mean-pooled (unnormalised) encoder output of ``[CLS] id [SEP]`` for each id.

    Runs the cached int8 ONNX MiniLM (about 4x faster than PyTorch fp32). The last row
    is the empty text, ``[CLS] [SEP]``: the fallback for texts without known tokens.

    Returns
    -------
    raw : ndarray of shape (M + 1, 384), float32
    """
    session = load_session(ensure_onnx_model(models_dir, quantize=True), n_threads)
    out = np.empty((len(ids) + 1, EMBED_DIM), dtype=np.float32)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size].astype(np.int64)
        seq = np.stack([np.full_like(chunk, CLS_ID), chunk, np.full_like(chunk, SEP_ID)], 1)
        out[start : start + len(chunk)] = session.run(
            ["mean"], {"input_ids": seq, "attention_mask": np.ones_like(seq)}
        )[0]
    seq = np.array([[CLS_ID, SEP_ID]], dtype=np.int64)
    out[-1] = session.run(["mean"], {"input_ids": seq, "attention_mask": np.ones_like(seq)})[0][0]
    return out


def _pca(X: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (dims, D) principal axes of ``X`` (eigendecomposition of the covariance)."""
    mean = X.mean(0)
    Xc = (X - mean).astype(np.float64)
    eigvals, eigvecs = np.linalg.eigh(Xc.T @ Xc / max(len(X) - 1, 1))
    axes = eigvecs[:, ::-1][:, :dims].T
    # deterministic sign: the largest-magnitude score of each component is positive
    scores = Xc @ axes.T
    signs = np.sign(scores[np.abs(scores).argmax(0), np.arange(axes.shape[0])])
    signs[signs == 0] = 1
    return mean, axes * signs[:, None]


def distill_static_table(
    *,
    dims: int = 256,
    sif_coefficient: float = 1e-4,
    vocab_size: int | None = None,
    n_threads: int = 2,
    models_dir: Path | None = None,
) -> dict[str, np.ndarray]:
    """Distill the static embedding table from all-MiniLM-L6-v2.

    Parameters
    ----------
    dims : int
        PCA components kept.
    sif_coefficient : float
        ``a`` in the SIF weight ``a / (a + p(token))``.
    vocab_size : int, optional
        Distill only the first ``vocab_size`` usable tokens (for quick tests); the other
        rows stay zero. Default: the whole vocabulary.
    n_threads : int
        ONNX Runtime threads for the encoder.
    models_dir : Path, optional
        Where the ONNX encoder is cached; default ``cache_dir() / "models"``.

    Returns
    -------
    arrays : dict
        ``table`` (V, dims) float32, ``empty`` (dims,) float32 (the empty text),
        ``vocab`` (V,) str, ``weights`` (V,) float32, ``seconds`` () float64.
    """
    t0 = time.perf_counter()
    tokenizer = load_tokenizer()
    keep, tokens = _token_rows(tokenizer, vocab_size)
    logger.info("distilling a static embedding from %d MiniLM tokens", len(keep))
    models = cache_dir() / "models" if models_dir is None else Path(models_dir)
    raw = _encode_tokens(keep, models_dir=models, n_threads=n_threads)
    mean, axes = _pca(raw[:-1], min(dims, raw.shape[1], len(keep) - 1))
    reduced = ((raw - mean) @ axes.T).astype(np.float32)
    # Zipf's law over the vocabulary order, then SIF weighting (model2vec's recipe)
    inv_rank = 1.0 / np.arange(2, len(keep) + 2, dtype=np.float64)
    proba = inv_rank / inv_rank.sum()
    weight = (sif_coefficient / (sif_coefficient + proba)).astype(np.float32)
    table = np.zeros((len(tokens), reduced.shape[1]), dtype=np.float32)
    table[keep] = reduced[:-1] * weight[:, None]
    weights = np.zeros(len(tokens), dtype=np.float32)
    weights[keep] = weight
    return {
        "table": table,
        "empty": reduced[-1],
        "vocab": np.asarray(tokens, dtype=str),
        "weights": weights,
        "seconds": np.float64(time.perf_counter() - t0),
    }


def _load_or_distill(path: Path, **params: Any) -> dict[str, np.ndarray]:
    if _is_valid(path):
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, KeyError):
            pass
    if path.exists():
        logger.warning("cached static embedding %s is corrupted; distilling it again", path)
    arrays = distill_static_table(**params)
    logger.info("static embedding distilled in %.1f s", float(arrays["seconds"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".build-") as tmpdir:
        tmp = Path(tmpdir) / "table.npz"
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        side = Path(tmpdir) / "sha256"
        side.write_text(_sha256(tmp))
        os.replace(tmp, path)
        os.replace(side, path.with_name(path.name + ".sha256"))
    return arrays


class StaticFeaturizer:
    """Static token embeddings distilled from all-MiniLM-L6-v2 (model2vec-style).

    Tens of thousands of sentences per second on one core: a text is the normalised
    SIF-weighted mean of its WordPiece tokens' vectors. The table is distilled from the
    encoder on first use (about a minute on 2 cores) and cached in ``cache_dir()/models/``.

    Parameters
    ----------
    dims : int, default 256
        PCA dimensions of the table.
    sif_coefficient : float, default 1e-4
        SIF weight parameter; smaller down-weights frequent tokens more.
    vocab_size : int, optional
        Distill only the first ``vocab_size`` tokens (quick tests). Default: all.
    n_threads : int, default 2
        Threads for the one-off distillation.
    cache_path : str or Path, optional
        Folder holding ``models/``; default :func:`cache_dir`.

    Attributes
    ----------
    name : str
        ``"static"``.
    model_id : str
        Identifies the table recipe and options; part of the feature-cache key.
    distill_seconds_ : float
        Time the distillation took (when it ran, or was recorded in the cached file).
    """

    name = "static"

    _constraints: dict[str, list[Any]] = {
        "dims": [Interval(int, 2, 384)],
        "sif_coefficient": [Interval(float, 0.0, 1.0, closed="neither")],
        "vocab_size": [None, Interval(int, 16, None)],
        "n_threads": [Interval(int, 1, None)],
    }

    def __init__(
        self,
        *,
        dims: int = 256,
        sif_coefficient: float = 1e-4,
        vocab_size: int | None = None,
        n_threads: int = 2,
        cache_path: str | Path | None = None,
    ) -> None:
        self.dims = dims
        self.sif_coefficient = sif_coefficient
        self.vocab_size = vocab_size
        self.n_threads = n_threads
        self.cache_path = cache_path
        check_params(self)
        vocab = "" if vocab_size is None else f"-vocab{vocab_size}"
        self.model_id = f"static-minilm-l6-v2-pca{dims}-sif{sif_coefficient:g}{vocab}-{_RECIPE}"
        self._table: np.ndarray | None = None
        self._empty: np.ndarray | None = None
        self._tokenizer: Any = None
        self.distill_seconds_: float | None = None

    @property
    def model_path(self) -> Path:
        """The cached table file."""
        return cache_dir(self.cache_path) / "models" / (self.model_id + ".npz")

    def _load(self) -> None:
        if self._table is not None:
            return
        arrays = _load_or_distill(
            self.model_path,
            dims=self.dims,
            sif_coefficient=self.sif_coefficient,
            vocab_size=self.vocab_size,
            n_threads=self.n_threads,
            models_dir=self.model_path.parent,
        )
        self._table = np.ascontiguousarray(arrays["table"], dtype=np.float32)
        self._empty = np.asarray(arrays["empty"], dtype=np.float32)
        self.distill_seconds_ = float(arrays["seconds"])
        tok = load_tokenizer()
        tok.no_truncation()  # a static embedding reads the whole text
        self._tokenizer = tok

    @property
    def dim(self) -> int:
        """Output dimension (``dims``, or fewer for a tiny ``vocab_size``)."""
        self._load()
        assert self._table is not None
        return int(self._table.shape[1])

    def _counts(self, texts: list[str]) -> sp.csr_matrix:
        """(N, V) token-count matrix of ``texts`` (no special tokens, no truncation).

        Equal to counting the tokenizer's ids text by text, but faster: the texts are
        split on whitespace in one pass (the tokenizer's first step), each distinct
        chunk is tokenized once, and the (N, chunks) @ (chunks, V) product gives counts.
        """
        joined = _SEP.join(texts)
        if joined.count(_SEP_CHAR) != len(texts) - 1 or _SPLIT_DIFFERS.search(joined):
            return self._counts_direct(texts)  # separator in the data, or exotic controls
        words = joined.split()
        chunk_ids: dict[str, int] = {}
        add = chunk_ids.setdefault
        codes = np.fromiter((add(w, len(chunk_ids)) for w in words), np.int64, len(words))
        sep = chunk_ids.get(_SEP_CHAR, -1)
        is_sep = codes == sep
        row = np.cumsum(is_sep)[~is_sep]
        codes = codes[~is_sep]
        per_text = sp.csr_matrix(
            (np.ones(len(codes), dtype=np.float32), (row, codes)),
            shape=(len(texts), len(chunk_ids)),
        )
        return per_text @ self._chunk_tokens(list(chunk_ids))

    def _chunk_tokens(self, chunks: list[str]) -> sp.csr_matrix:
        """(len(chunks), V) token counts of whitespace-free chunks, via pre-tokenized input."""
        assert self._table is not None
        parts = max(1, min(64, len(chunks) // 2048))
        bounds = np.linspace(0, len(chunks), parts + 1).astype(int)
        encs = self._tokenizer.encode_batch(  # (the _fast variant drops word_ids)
            [chunks[bounds[i] : bounds[i + 1]] for i in range(parts)],
            is_pretokenized=True,
            add_special_tokens=False,
        )
        ids = np.concatenate([np.asarray(e.ids, dtype=np.int64) for e in encs] + [[]])
        word = np.concatenate(
            [np.asarray(e.word_ids, dtype=np.int64) + bounds[i] for i, e in enumerate(encs)] + [[]]
        )
        return sp.csr_matrix(
            (np.ones(len(ids), dtype=np.float32), (word.astype(np.int64), ids.astype(np.int64))),
            shape=(len(chunks), self._table.shape[0]),
        )

    def _counts_direct(self, texts: list[str]) -> sp.csr_matrix:
        """(N, V) token counts from one tokenizer call per text (the reference path)."""
        assert self._table is not None
        enc = self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        ids = [e.ids for e in enc]
        lens = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        indices = np.fromiter((t for x in ids for t in x), dtype=np.int32, count=int(indptr[-1]))
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(ids), self._table.shape[0]))

    def transform(self, texts: Sequence[str]) -> Float32Array:
        """Embed ``texts``.

        Parameters
        ----------
        texts : sequence of str, length N

        Returns
        -------
        X : ndarray of shape (N, dims), float32, L2-normalised rows. A text with no
            known tokens (e.g. empty) gets the distilled vector of the empty text.
        """
        self._load()
        assert self._table is not None and self._empty is not None
        texts = [str(t) for t in texts]
        X = np.empty((len(texts), self._table.shape[1]), dtype=np.float32)
        for start in range(0, len(texts), _CHUNK):
            chunk = texts[start : start + _CHUNK]
            counts = self._counts(chunk)
            counts.sum_duplicates()  # canonical (sorted) form: a row's sum order is fixed
            X[start : start + len(chunk)] = counts @ self._table
        norms = np.linalg.norm(X, axis=1)
        empty = norms < 1e-12
        X[empty] = self._empty
        norms[empty] = np.linalg.norm(self._empty)
        X /= norms[:, None]
        return X

    def __repr__(self) -> str:
        return (
            f"StaticFeaturizer(dims={self.dims}, sif_coefficient={self.sif_coefficient:g}, "
            f"vocab_size={self.vocab_size})"
        )
