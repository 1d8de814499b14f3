"""Token and entity label issues from per-token tag probabilities (NumPy core).

Inputs are IOB2 tag codes in the fixed layout of :mod:`truelabel.io` (0 = O,
1 + 2t = B-t, 2 + 2t = I-t), sentence offsets and out-of-sample tag probabilities
(T, K), e.g. the marginals of a cross-fitted :class:`truelabel.learn.CRFTagger`.

- :func:`decode_tags`: the most likely *valid* IOB2 sequence under the probabilities
  (no ``I-X`` after ``O`` or another type).
- :func:`get_token_label_quality`: a score per token, lower = more likely mislabelled.
- :func:`find_entity_issues`: the given and suggested entities grouped into regions
  (overlapping spans), each with a kind (``wrong_type``, ``boundary``,
  ``boundary_and_type``, ``missing``, ``spurious`` or ``none``) and a quality score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import InputError
from .._types import BoolArray, Float32Array, IntArray

__all__ = [
    "ENTITY_ISSUE_KINDS",
    "EntityIssues",
    "Spans",
    "decode_tags",
    "find_entity_issues",
    "get_token_label_quality",
]

#: Kinds of entity-level issues, in the order of ``EntityIssues.kind`` codes.
ENTITY_ISSUE_KINDS = ("none", "wrong_type", "boundary", "boundary_and_type", "missing", "spurious")
_EPS = 1e-6


def _check(tags: IntArray, probs: np.ndarray, offsets: IntArray) -> tuple[IntArray, np.ndarray]:
    tags = np.asarray(tags, dtype=np.int64)
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[0] != tags.shape[0]:
        raise InputError(
            f"token probabilities have shape {probs.shape} but there are {tags.shape[0]} "
            "tokens; give one row of tag probabilities per token."
        )
    k = probs.shape[1]
    if k % 2 != 1:
        raise InputError(
            f"token probabilities have {k} columns; the tag layout O, B-t, I-t, ... has an "
            "odd number (1 + 2 x entity types)."
        )
    if tags.size and (tags.min() < 0 or tags.max() >= k):
        raise InputError(f"tag codes must lie in [0, {k}); got [{tags.min()}, {tags.max()}].")
    if offsets[0] != 0 or offsets[-1] != tags.shape[0] or np.any(np.diff(offsets) < 0):
        raise InputError("sentence offsets must rise from 0 to the number of tokens.")
    return tags, probs


def _iob_transitions(k: int) -> tuple[np.ndarray, np.ndarray]:
    """(K, K) and (K,) scores: 0 where allowed, -inf for ``I-t`` not after ``B-t``/``I-t``."""
    trans = np.zeros((k, k))
    start = np.zeros(k)
    for t in range((k - 1) // 2):
        inside = 2 + 2 * t
        ok_prev = np.zeros(k, dtype=bool)
        ok_prev[[inside - 1, inside]] = True
        trans[~ok_prev, inside] = -np.inf
        start[inside] = -np.inf
    return trans, start


def decode_tags(probs: np.ndarray, offsets: IntArray) -> IntArray:
    """The valid IOB2 sequence of highest summed log-probability, per sentence.

    Parameters
    ----------
    probs : ndarray of shape (T, K)
        Tag probabilities (marginals) of every token; K = 1 + 2 x types.
    offsets : ndarray of shape (S + 1,), int
        Sentence boundaries.

    Returns
    -------
    tags : ndarray of shape (T,), int64
        No ``I-t`` follows ``O`` or another type, and no sentence starts with ``I-t``.
    """
    from .._sequence import viterbi

    k = probs.shape[1]
    trans, start = _iob_transitions(k)
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), _EPS, None))
    return viterbi(logp, offsets, trans, start, np.zeros(k))


def get_token_label_quality(tags: IntArray, probs: np.ndarray) -> Float32Array:
    """Probability of every token's given tag (self-confidence).

    The token score of cleanlab's ``token_classification.rank`` default. A class-normalised
    variant (divided by the mean probability of each tag over the tokens given it, as
    confident learning's thresholds) and the exact probability of a region's given tags
    under the cross-fitted CRF were measured too; neither ranked the CoNLL corrections
    better (``benchmarks/bench_tasks.py``, BENCHMARKS.md), so the plain score stays.

    Parameters
    ----------
    tags : ndarray of shape (T,), int
    probs : ndarray of shape (T, K)

    Returns
    -------
    label_quality : ndarray of shape (T,), float32
        In [0, 1]; **lower = more likely mislabelled**.
    """
    tags = np.asarray(tags, dtype=np.int64)
    return np.asarray(probs[np.arange(tags.shape[0]), tags], dtype=np.float32)


@dataclass
class Spans:
    """Entities of one side (E rows): token range ``[start, end)``, type, region."""

    start: IntArray
    end: IntArray
    type: IntArray
    region: IntArray


@dataclass
class EntityIssues:
    """Regions of overlapping given and suggested entities, one row each (R rows).

    Attributes
    ----------
    sentence : ndarray of shape (R,), int64
    start, end : ndarray of shape (R,), int64
        Global token range ``[start, end)`` of the region.
    kind : ndarray of shape (R,), int64
        Index into :data:`ENTITY_ISSUE_KINDS` (0 = ``none``: the suggestion equals the
        given entities).
    quality : ndarray of shape (R,), float32
        In [0, 1]; lower = more likely the given labels of the region are wrong.
    n_given, n_suggested : ndarray of shape (R,), int64
        Entities of each side in the region.
    given_type, suggested_type : ndarray of shape (R,), int64
        Type of the first entity of each side in the region (-1 when there is none).
    given, suggested : Spans
        Every given / suggested entity with the region it falls in.
    """

    sentence: IntArray
    start: IntArray
    end: IntArray
    kind: IntArray
    quality: Float32Array
    n_given: IntArray
    n_suggested: IntArray
    given_type: IntArray
    suggested_type: IntArray
    given: Spans
    suggested: Spans

    @property
    def is_issue(self) -> BoolArray:
        """Regions whose suggestion differs from the given entities."""
        return self.kind != 0


def _first_per_region(region_of: IntArray, values: IntArray, n_regions: int) -> IntArray:
    """The value of the first member of every region (-1 for none)."""
    col = np.full(n_regions, -1, dtype=np.int64)
    has, first_idx = np.unique(region_of, return_index=True)
    col[has] = values[first_idx]
    return col


def find_entity_issues(
    tags: IntArray,
    probs: np.ndarray,
    offsets: IntArray,
    *,
    suggested: IntArray | None = None,
) -> EntityIssues:
    """Compare the given entities with the ones the probabilities suggest.

    Given and suggested entities (:func:`decode_tags`) that overlap form a region
    (connected components of overlapping spans). A region's kind:

    - ``none``: the same spans with the same types;
    - ``wrong_type``: the same spans, another type;
    - ``boundary``: the same type, other boundaries;
    - ``boundary_and_type``: both differ;
    - ``missing``: a suggested entity where no entity is given;
    - ``spurious``: a given entity where none is suggested.

    Its quality is the smallest :func:`get_token_label_quality` over the region's tokens:
    a region is as doubtful as its most doubtful token (the minimum bounds the
    probability that all its given tags are right).

    Parameters
    ----------
    tags : ndarray of shape (T,), int
        Given tag codes.
    probs : ndarray of shape (T, K)
        Out-of-sample tag probabilities.
    offsets : ndarray of shape (S + 1,), int
    suggested : ndarray of shape (T,), int, optional
        Suggested tag codes (default :func:`decode_tags` of ``probs``).

    Returns
    -------
    EntityIssues
        Regions in token order.
    """
    from ..io._tokens import tags_to_spans

    tags, probs = _check(tags, probs, offsets)
    n = tags.shape[0]
    sug = decode_tags(probs, offsets) if suggested is None else np.asarray(suggested, np.int64)
    gs, ge, gt = tags_to_spans(tags, offsets)
    ss, se, st = tags_to_spans(sug, offsets)
    # regions: union of token ranges of both sides, merged where they overlap
    starts = np.concatenate([gs, ss])
    ends = np.concatenate([ge, se])
    order = np.argsort(starts, kind="stable")
    s_sorted, e_sorted = starts[order], ends[order]
    run_end = np.maximum.accumulate(e_sorted) if len(order) else e_sorted
    new_region = np.ones(len(order), dtype=bool)
    new_region[1:] = s_sorted[1:] >= run_end[:-1]
    region_sorted = np.cumsum(new_region) - 1
    region = np.empty(len(order), dtype=np.int64)
    region[order] = region_sorted
    n_reg = int(region_sorted[-1] + 1) if len(order) else 0
    r_start = np.full(n_reg, n, dtype=np.int64)
    np.minimum.at(r_start, region, starts)
    r_end = np.zeros(n_reg, dtype=np.int64)
    np.maximum.at(r_end, region, ends)
    reg_g, reg_s = region[: len(gs)], region[len(gs) :]
    n_g = np.bincount(reg_g, minlength=n_reg).astype(np.int64)
    n_s = np.bincount(reg_s, minlength=n_reg).astype(np.int64)

    # kind: agreement = every entity of one side has an identical twin on the other
    span_key_g = gs * (n + 1) + ge
    span_key_s = ss * (n + 1) + se
    full_key_g = span_key_g * 1024 + gt
    full_key_s = span_key_s * 1024 + st
    match_all = np.bincount(reg_g, np.isin(full_key_g, full_key_s), minlength=n_reg)
    match_span = np.bincount(reg_g, np.isin(span_key_g, span_key_s), minlength=n_reg)
    t_min = np.full(n_reg, np.iinfo(np.int64).max, dtype=np.int64)
    t_max = np.full(n_reg, -1, dtype=np.int64)
    np.minimum.at(t_min, region, np.concatenate([gt, st]))
    np.maximum.at(t_max, region, np.concatenate([gt, st]))
    same_n = n_g == n_s
    same_all = same_n & (match_all == n_g)
    same_spans = same_n & (match_span == n_g)
    one_type = t_min == t_max
    kind = np.full(n_reg, 3, dtype=np.int64)  # boundary_and_type
    kind[one_type] = 2
    kind[same_spans] = 1
    kind[same_all] = 0
    kind[n_g == 0] = 4
    kind[n_s == 0] = 5

    # quality: the most doubtful token of the region
    tok_q = get_token_label_quality(tags, probs).astype(np.float64)
    sent = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    q = _range_min(tok_q, r_start, r_end) if n_reg else np.zeros(0)
    return EntityIssues(
        sentence=sent[np.minimum(r_start, n - 1)] if n_reg else np.zeros(0, dtype=np.int64),
        start=r_start,
        end=r_end,
        kind=kind,
        quality=np.asarray(q, dtype=np.float32),
        n_given=n_g,
        n_suggested=n_s,
        given_type=_first_per_region(reg_g, gt, n_reg),
        suggested_type=_first_per_region(reg_s, st, n_reg),
        given=Spans(gs, ge, gt, reg_g),
        suggested=Spans(ss, se, st, reg_s),
    )


def _range_min(values: np.ndarray, start: IntArray, end: IntArray) -> np.ndarray:
    """``min(values[start[i]:end[i]])`` for non-empty, non-overlapping ranges."""
    lens = end - start
    idx = np.repeat(start, lens) + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens))
    seg = np.repeat(np.arange(len(start)), lens)
    out = np.full(len(start), np.inf)
    np.minimum.at(out, seg, values[idx])
    return out
