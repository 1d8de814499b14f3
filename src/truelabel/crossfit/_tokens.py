"""K-fold out-of-sample tag marginals for token-labelled sentences."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from .._errors import InputError
from .._types import Float32Array, IntArray, RandomState
from .._validation import check_random_state

__all__ = ["cross_val_token_marginals", "sentence_folds"]

logger = logging.getLogger(__name__)


def sentence_folds(
    n_sentences: int, n_folds: int, random_state: RandomState = 0, groups: IntArray | None = None
) -> IntArray:
    """Fold number of every sentence: shuffled, balanced; whole groups stay together.

    Parameters
    ----------
    n_sentences : int
    n_folds : int
    random_state : int or Generator
    groups : ndarray of shape (n_sentences,), int, optional
        Group (e.g. document) of each sentence; a group never spans two folds.

    Returns
    -------
    fold : ndarray of shape (n_sentences,), int64, values in ``[0, n_folds)``
    """
    rng = check_random_state(random_state)
    if groups is None:
        fold = np.arange(n_sentences) % n_folds
        return rng.permutation(fold).astype(np.int64)
    uniq, inv = np.unique(groups, return_inverse=True)
    g_fold = rng.permutation(np.arange(len(uniq)) % n_folds)
    return g_fold[inv].astype(np.int64)


def cross_val_token_marginals(
    tokens: np.ndarray,
    offsets: IntArray,
    tags: IntArray,
    tag_names: list[str],
    *,
    n_folds: int = 5,
    tagger: Any = None,
    random_state: RandomState = 0,
    groups: IntArray | None = None,
    on_fold: Callable[[int, int], None] | None = None,
) -> Float32Array:
    """Out-of-sample tag marginals: each sentence is tagged by a model that never saw it.

    The features are computed once for all tokens (they depend on a token and its
    neighbours only, never on labels); each fold fits a clone of ``tagger`` on the other
    folds' sentences.

    Parameters
    ----------
    tokens : ndarray of shape (T,), object
    offsets : ndarray of shape (S + 1,), int
    tags : ndarray of shape (T,), int
        Given tag codes.
    tag_names : list of str
    n_folds : int, default 5
    tagger : CRFTagger, optional
        Default :class:`truelabel.learn.CRFTagger` with its defaults.
    random_state : int or Generator
        Seeds the fold split and the taggers.
    groups : ndarray of shape (S,), optional
        Keep the sentences of a group (document) in one fold.
    on_fold : callable(done, total), optional

    Returns
    -------
    marginals : ndarray of shape (T, K), float32
        ``P(tag = k)`` of every token from the fold model that did not see its sentence.
    """
    from sklearn.base import clone

    from ..learn._tagger import CRFTagger

    n_sent = len(offsets) - 1
    if n_folds < 2:
        raise InputError(f"--folds must be at least 2; got {n_folds}.")
    if n_sent < n_folds:
        raise InputError(
            f"{n_sent} sentences cannot be split into {n_folds} folds; lower --folds or "
            "add sentences."
        )
    if groups is not None and len(np.unique(groups)) < n_folds:
        groups = None  # fewer documents than folds: split sentences instead
    rng = check_random_state(random_state)
    seed = int(rng.integers(0, 2**31 - 1))
    base = tagger if tagger is not None else CRFTagger()
    fold = sentence_folds(n_sent, n_folds, seed, groups)
    feats = base.features(tokens, offsets)
    tok_fold = np.repeat(fold, np.diff(offsets))
    out = np.zeros((len(tokens), len(tag_names)), dtype=np.float32)
    for f in range(n_folds):
        train_s = np.flatnonzero(fold != f)
        test_s = np.flatnonzero(fold == f)
        tr_tok = tok_fold != f
        te_tok = ~tr_tok
        model = clone(base).set_params(random_state=seed + f)
        model.fit(
            tokens[tr_tok],
            _sub_offsets(offsets, train_s),
            tags[tr_tok],
            tag_names,
            features=_take(feats, tr_tok),
        )
        out[te_tok] = model.predict_marginals(
            tokens[te_tok], _sub_offsets(offsets, test_s), features=_take(feats, te_tok)
        )
        logger.info("token fold %d/%d done", f + 1, n_folds)
        if on_fold is not None:
            on_fold(f + 1, n_folds)
    return out


def _sub_offsets(offsets: IntArray, rows: IntArray) -> IntArray:
    """Offsets of the sentences ``rows`` (ascending) laid end to end."""
    lens = np.diff(offsets)[rows]
    out = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lens, out=out[1:])
    return out


def _take(feats: Any, mask: np.ndarray) -> Any:
    from ..featurize._tokens import TokenFeatures

    return TokenFeatures(dense=feats.dense[mask], ids=feats.ids[mask], n_buckets=feats.n_buckets)
