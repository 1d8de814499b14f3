"""Linear-chain inference on NumPy arrays: forward-backward and Viterbi.

Shared by the CRF tagger (:mod:`truelabel.learn`), the IOB decoding of the token audit
(:mod:`truelabel.audit`) and the sequence label model (:mod:`truelabel.aggregate`).
Sentences are processed in buckets of similar length, vectorised over the sentences of a
bucket; the only Python loop runs over positions.

Scores are log-space: ``emissions[t, k]`` (T, K) per token, ``transitions[i, j]`` for
tag ``j`` following tag ``i``, ``start[k]`` / ``end[k]`` for the first / last tag.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ._types import Float32Array, IntArray

__all__ = ["ForwardBackward", "buckets", "forward_backward", "padded", "viterbi"]


def buckets(offsets: IntArray, max_tokens: int = 65_536) -> list[np.ndarray]:
    """Sentence indices grouped by similar length; each group's padded size <= max_tokens.

    Parameters
    ----------
    offsets : ndarray of shape (S + 1,), int
    max_tokens : int

    Returns
    -------
    list of ndarray of int
        Sentence indices, shortest sentences first.
    """
    lens = np.diff(offsets)
    order = np.argsort(lens, kind="stable")
    sorted_lens = np.maximum(lens[order], 1)
    groups: list[np.ndarray] = []
    start = 0
    n = len(order)
    while start < n:
        # the widest sentence of a group is its last (lengths ascend): grow while it fits
        cand = np.arange(start + 1, n + 1)
        fits = (cand - start) * sorted_lens[cand - 1] <= max_tokens
        stop = int(cand[fits][-1]) if fits.any() else start + 1
        groups.append(order[start:stop])
        start = stop
    return groups


def padded(offsets: IntArray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token index grid (b, L) of sentences ``rows`` (-1 = padding), its mask, lengths."""
    lens = np.diff(offsets)[rows]
    width = max(int(lens.max()), 1) if len(rows) else 1
    mask = np.arange(width)[None, :] < lens[:, None]
    grid = offsets[:-1][rows][:, None] + np.arange(width)[None, :]
    return np.where(mask, grid, -1), mask, lens


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def _emission_batches(
    emissions: np.ndarray, offsets: IntArray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Non-empty sentences in length buckets: token grid (b, L), mask, lengths and the
    padded emissions (b, L, K) (padding 0)."""
    K = emissions.shape[1]
    lens_all = np.diff(offsets)
    for rows in buckets(offsets):
        rows = rows[lens_all[rows] > 0]
        if not len(rows):
            continue
        grid, mask, lens = padded(offsets, rows)
        em = np.zeros((*grid.shape, K))
        em[mask] = emissions[grid[mask]]
        yield grid, mask, lens, em


@dataclass
class ForwardBackward:
    """Results of :func:`forward_backward`.

    Attributes
    ----------
    marginals : ndarray of shape (T, K), float32
        ``P(tag_t = k | sentence)``.
    transition_counts : ndarray of shape (K, K), float64
        Expected number of ``i -> j`` transitions summed over all sentences.
    start_counts, end_counts : ndarray of shape (K,), float64
        Expected first / last tags summed over sentences.
    log_z : float
        Sum over sentences of the log partition function (a log-likelihood for an HMM).
    """

    marginals: Float32Array
    transition_counts: np.ndarray
    start_counts: np.ndarray
    end_counts: np.ndarray
    log_z: float


def forward_backward(
    emissions: np.ndarray,
    offsets: IntArray,
    transitions: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    *,
    pairwise: bool = False,
) -> ForwardBackward:
    """Forward-backward in log space over every sentence.

    Parameters
    ----------
    emissions : ndarray of shape (T, K)
    offsets : ndarray of shape (S + 1,), int
        Sentence boundaries; empty sentences are skipped.
    transitions : ndarray of shape (K, K)
    start, end : ndarray of shape (K,)
    pairwise : bool
        Also accumulate the expected transition counts (costs one more pass).

    Returns
    -------
    ForwardBackward
    """
    T, K = emissions.shape
    out = np.zeros((T, K), dtype=np.float32)
    trans = np.asarray(transitions, dtype=np.float64)
    t_counts = np.zeros((K, K))
    s_counts = np.zeros(K)
    e_counts = np.zeros(K)
    log_z = 0.0
    for grid, mask, lens, em in _emission_batches(emissions, offsets):
        b, L = grid.shape
        ar = np.arange(b)
        alpha = np.empty((b, L, K))
        alpha[:, 0] = start + em[:, 0]
        for t in range(1, L):
            alpha[:, t] = _logsumexp(alpha[:, t - 1, :, None] + trans[None], axis=1) + em[:, t]
        last = lens - 1
        beta = np.zeros((b, L, K))
        beta[ar, last] = end
        for t in range(L - 2, -1, -1):
            nxt = _logsumexp(trans[None] + (em[:, t + 1] + beta[:, t + 1])[:, None, :], axis=2)
            beta[:, t] = np.where((t < last)[:, None], nxt, beta[:, t])
        z = _logsumexp(alpha[ar, last] + end, axis=1)  # (b,)
        log_z += float(z.sum())
        post = np.exp(alpha + beta - z[:, None, None])
        out[grid[mask]] = post[mask]
        s_counts += post[:, 0].sum(axis=0)
        e_counts += post[ar, last].sum(axis=0)
        if pairwise and L > 1:
            # xi[b, t, i, j] ∝ alpha[t, i] + trans[i, j] + em[t+1, j] + beta[t+1, j]
            xi = (
                alpha[:, :-1, :, None]
                + trans[None, None]
                + (em[:, 1:] + beta[:, 1:])[:, :, None, :]
                - z[:, None, None, None]
            )
            live = np.arange(L - 1)[None, :] < last[:, None]
            t_counts += np.exp(xi[live]).sum(axis=0)
    sums = out.sum(axis=1, keepdims=True)
    np.divide(out, sums, out=out, where=sums > 0)
    return ForwardBackward(out, t_counts, s_counts, e_counts, log_z)


def viterbi(
    emissions: np.ndarray,
    offsets: IntArray,
    transitions: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> IntArray:
    """The highest-scoring tag sequence of every sentence.

    Parameters
    ----------
    emissions, offsets, transitions, start, end
        As in :func:`forward_backward`.

    Returns
    -------
    tags : ndarray of shape (T,), int64
        Ties go to the lowest tag index.
    """
    T, K = emissions.shape
    out = np.zeros(T, dtype=np.int64)
    trans = np.asarray(transitions, dtype=np.float64)
    for grid, mask, lens, em in _emission_batches(emissions, offsets):
        b, L = grid.shape
        ar = np.arange(b)
        score = start + em[:, 0]
        back = np.zeros((b, L, K), dtype=np.int64)
        last = lens - 1
        final = np.where((last == 0)[:, None], score + end, -np.inf)
        for t in range(1, L):
            cand = score[:, :, None] + trans[None]
            back[:, t] = cand.argmax(axis=1)
            new = cand.max(axis=1) + em[:, t]
            score = np.where((t <= last)[:, None], new, score)
            final = np.where((last == t)[:, None], score + end, final)
        best = np.zeros((b, L), dtype=np.int64)
        cur = final.argmax(axis=1)
        for t in range(L - 1, -1, -1):
            here = t <= last
            cur = np.where(t == last, final.argmax(axis=1), cur)
            best[:, t] = np.where(here, cur, 0)
            if t > 0:
                cur = np.where(here, back[ar, t, cur], cur)
        out[grid[mask]] = best[mask]
    return out
