"""Token features for taggers: a static embedding per token, its neighbours', word shape,
affixes and context words as hashed sparse ids.

Two blocks per token (T tokens, S sentences):

- ``dense`` (T, 3 * d + n_shape): the static embedding (:class:`StaticFeaturizer`, the
  project's distilled MiniLM token table; lower-cased WordPiece) of the token and of its
  left and right neighbours, plus a few word-shape flags (capitalisation, digits,
  punctuation, sentence start) that the uncased embedding cannot see;
- ``ids`` (T, F) int64: hashed indicator features, one column per template (the word as
  written and lower-cased, the words at -2..+2, word shapes at -1..+1, prefixes and
  suffixes, word bigrams), each in ``[0, 2**hash_bits)``.

Every distinct string is embedded or hashed once; the per-token work is array indexing.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from .._types import Float32Array, IntArray

__all__ = ["TokenFeatures", "token_features", "word_shape"]

_SHAPE_SUB = [(re.compile(r"[A-Z]"), "X"), (re.compile(r"[a-z]"), "x"), (re.compile(r"\d"), "d")]
_COLLAPSE = re.compile(r"(.)\1+")
#: Number of hashed templates produced by :func:`token_features`.
N_TEMPLATES = 16
_PAD_LEFT, _PAD_RIGHT = "<s>", "</s>"


def word_shape(word: str, *, short: bool = True) -> str:
    """``"McDonald's"`` → ``"XxXx'x"`` (short: runs collapsed) or ``"XxXxxxxx'x"``."""
    s = word
    for pat, rep in _SHAPE_SUB:
        s = pat.sub(rep, s)
    s = re.sub(r"[^\sXxd]", lambda m: m.group() if m.group() in "-'.,&/" else "#", s)
    return _COLLAPSE.sub(r"\1", s) if short else s[:12]


@dataclass
class TokenFeatures:
    """Features of T tokens.

    Attributes
    ----------
    dense : ndarray of shape (T, D), float32
    ids : ndarray of shape (T, F), int64
        Hashed feature ids in ``[0, n_buckets)``.
    n_buckets : int
        ``2 ** hash_bits``.
    """

    dense: Float32Array
    ids: IntArray
    n_buckets: int


def _crc(strings: list[str], salt: int) -> np.ndarray:
    """Stable 32-bit hash of each string (``crc32`` seeded per template)."""
    return np.fromiter(
        (zlib.crc32(s.encode("utf-8", "surrogatepass"), salt) for s in strings),
        dtype=np.uint64,
        count=len(strings),
    )


def _shape_flags(words: list[str]) -> Float32Array:
    """(V, 8) word-shape flags of distinct words."""
    rows = [
        (
            w[:1].isupper(),
            w.isupper() and any(c.isalpha() for c in w),
            w.islower(),
            any(c.isdigit() for c in w),
            w.isdigit(),
            not any(c.isalnum() for c in w),
            "-" in w,
            any(c.isupper() for c in w[1:]),
        )
        for w in words
    ]
    return np.asarray(rows, dtype=np.float32).reshape(len(words), 8)


def token_features(
    tokens: np.ndarray,
    offsets: IntArray,
    *,
    hash_bits: int = 18,
    embeddings: bool = True,
    featurizer: str = "static",
) -> TokenFeatures:
    """Features of every token of every sentence.

    Parameters
    ----------
    tokens : ndarray of shape (T,), object
        Tokens, sentence after sentence.
    offsets : ndarray of shape (S + 1,), int
        Sentence boundaries (sentence ``s`` = ``tokens[offsets[s]:offsets[s+1]]``).
    hash_bits : int
        Hashed ids fall in ``[0, 2**hash_bits)``.
    embeddings : bool
        Include the static embeddings (``False``: only shape flags in ``dense``).
    featurizer : str
        The registered featurizer that embeds each distinct token (default ``static``).

    Returns
    -------
    TokenFeatures
    """
    n = int(tokens.shape[0])
    words, inv = np.unique(np.asarray(tokens, dtype=str), return_inverse=True)
    vocab = words.tolist()
    lower = [w.lower() for w in vocab]
    sent = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    first = np.zeros(n, dtype=bool)
    first[offsets[:-1][offsets[:-1] < n]] = True
    last = np.zeros(n, dtype=bool)
    last[offsets[1:][offsets[1:] > 0] - 1] = True

    # distinct-word vectors; two extra rows for the sentence-boundary pads
    pad_l, pad_r = len(vocab), len(vocab) + 1

    def neighbour(shift: int) -> IntArray:
        """Distinct-word index of the token ``shift`` places away (pads past the edge)."""
        idx = np.arange(n) + shift
        ok = (idx >= 0) & (idx < n)
        ok[ok] &= sent[idx[ok]] == sent[ok]
        out = np.where(shift < 0, pad_l, pad_r) * np.ones(n, dtype=np.int64)
        out[ok] = inv[idx[ok]]
        return out

    at = {d: neighbour(d) for d in (-2, -1, 1, 2)}
    at[0] = inv.astype(np.int64)

    flags = np.vstack([_shape_flags(vocab), np.zeros((2, 8), dtype=np.float32)])
    parts = []
    if embeddings:
        from ._api import featurize

        E = np.asarray(featurize(vocab + [_PAD_LEFT, _PAD_RIGHT], featurizer), dtype=np.float32)
        E[-2:] = 0.0
        parts += [E[at[0]], E[at[-1]], E[at[1]]]
    parts += [flags[at[0]], first[:, None].astype(np.float32), last[:, None].astype(np.float32)]
    dense = np.hstack(parts).astype(np.float32)

    ext = vocab + [_PAD_LEFT, _PAD_RIGHT]
    ext_lower = lower + [_PAD_LEFT, _PAD_RIGHT]
    h_word = _crc(ext, 1)
    h_lower = _crc(ext_lower, 2)
    h_shape = _crc([word_shape(w) for w in vocab] + [_PAD_LEFT, _PAD_RIGHT], 3)
    h_long = _crc([word_shape(w, short=False) for w in vocab] + ["", ""], 4)
    h_suf3 = _crc([w[-3:] for w in ext_lower], 5)
    h_suf2 = _crc([w[-2:] for w in ext_lower], 6)
    h_pre3 = _crc([w[:3] for w in ext_lower], 7)
    mask = np.uint64((1 << hash_bits) - 1)
    big = np.uint64(0x9E3779B1)

    def mix(h: np.ndarray, template: int) -> np.ndarray:
        return ((h + np.uint64(template) * big) * np.uint64(2654435761)) & mask

    cols = [
        mix(h_word[at[0]], 1),
        mix(h_lower[at[0]], 2),
        mix(h_lower[at[-1]], 3),
        mix(h_lower[at[1]], 4),
        mix(h_lower[at[-2]], 5),
        mix(h_lower[at[2]], 6),
        mix(h_shape[at[0]], 7),
        mix(h_shape[at[-1]], 8),
        mix(h_shape[at[1]], 9),
        mix(h_long[at[0]], 10),
        mix(h_suf3[at[0]], 11),
        mix(h_suf2[at[0]], 12),
        mix(h_pre3[at[0]], 13),
        mix(h_lower[at[-1]] * np.uint64(31) + h_lower[at[0]], 14),
        mix(h_lower[at[0]] * np.uint64(31) + h_lower[at[1]], 15),
        mix(h_shape[at[0]] * np.uint64(7) + first.astype(np.uint64), 16),
    ]
    ids = np.stack(cols, axis=1).astype(np.int64)
    return TokenFeatures(dense=dense, ids=ids, n_buckets=1 << hash_bits)
