"""Held-out vote likelihood: how well a label model's posterior predicts votes it never saw.

One machinery serves two decisions, both without gold:

- which label model ``auto`` uses (:func:`truelabel.aggregate.select_label_model`), and
- the temperature that calibrates the reported posterior.

A random share of the votes is hidden (never every real vote of an item); each candidate is
fitted on the rest; its posterior, tempered to ``softmax((ll + lp) / T)``, predicts each hidden
vote ``l`` of source ``s`` on item ``i`` as ``sum_k q_T[i, k] C_s[k, l]``. The channel
``C_s`` is the same estimator for every candidate — one M-step from ``q_T`` on the visible
votes, each row shrunk toward the source's own answer distribution — so candidates
are compared on their posteriors alone. ``T`` is chosen per candidate by golden-section
search on ``log T``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..sources._votes import VoteArrays, _replace
from ._base import _counts, _n_true, _vote_matrix

__all__ = [
    "HeldoutScores",
    "calibrated_posterior",
    "heldout_split",
    "reported_temperature",
    "score_heldout",
    "subsample_items",
    "temper",
]

#: search range of the posterior temperature
T_RANGE = (0.05, 50.0)
#: the reported posterior uses the held-out temperature times this factor (model posteriors:
#: the EM models and GLAD) ...
TEMPERATURE_FACTOR = 2.5
#: ... or this one (vote-counting posteriors, softmax of the counts: mv, wawa) ...
COUNTING_TEMPERATURE_FACTOR = 2.0
#: ... mixed with this weight of the uniform distribution. All three were chosen
#: leave-one-dataset-out on the crowd sets with gold (benchmarks/experiments/auto_lodo.py):
#: held-out votes cannot see errors that all sources share, which make every vote-only
#: posterior overconfident (the held-out temperature of Dawid–Skene was about half the
#: gold-optimal one on every crowd set).
UNIFORM_MIX = 0.05
#: pseudo-votes pulling each row of a source's scoring channel toward its own answers
CHANNEL_POOLING = 2.0
#: smallest gain in mean log-likelihood per hidden vote (nats) that counts as better
MIN_GAIN = 1e-3
#: probability floor of a hidden vote (an answer its source never gave in the visible votes)
P_FLOOR = 1e-6


def temper(ll: np.ndarray, lp: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax((ll + lp) / T)`` per item; items whose votes favour no class keep ``softmax(lp)``.

    Parameters
    ----------
    ll : ndarray of shape (n_items, n_classes)
        Log-likelihood of each item's votes under each class (see ``_log_scores``).
    lp : ndarray of shape (n_classes,) or (n_items, n_classes)
        Log prior.
    temperature : float
        ``T > 1`` softens, ``T < 1`` sharpens; the argmax of items with evidence is unchanged.

    Returns
    -------
    posterior : ndarray of shape (n_items, n_classes), float64
    """
    return _Tempering(ll, lp)(temperature)


def reported_temperature(temperature: float, *, counting: bool, from_gold: bool) -> float:
    """The temperature applied to the reported posterior (see :func:`calibrated_posterior`)."""
    if from_gold:
        return float(temperature)
    return float(temperature) * (COUNTING_TEMPERATURE_FACTOR if counting else TEMPERATURE_FACTOR)


def calibrated_posterior(
    ll: np.ndarray,
    lp: np.ndarray,
    temperature: float,
    *,
    counting: bool = False,
    from_gold: bool = False,
) -> np.ndarray:
    """The reported posterior: ``(1 - eps) temper(ll, lp, f T) + eps / K``.

    ``T`` from held-out votes is multiplied by ``f`` (``TEMPERATURE_FACTOR``, or
    ``COUNTING_TEMPERATURE_FACTOR`` for vote-counting posteriors) and mixed with
    ``eps = UNIFORM_MIX`` of the uniform distribution; a temperature fitted on gold
    (``from_gold``) is used as it is. The argmax never changes.

    Returns
    -------
    posterior : ndarray of shape (n_items, n_classes), float64
    """
    t = reported_temperature(temperature, counting=counting, from_gold=from_gold)
    if from_gold:
        return temper(ll, lp, t)
    q = temper(ll, lp, t)
    return (1.0 - UNIFORM_MIX) * q + UNIFORM_MIX / q.shape[1]


class _Tempering:
    """``temper`` for many temperatures: the per-item work that does not depend on ``T``
    is done once, and rows are handled as the (K, n) transpose (reductions over a short
    last axis are slow in NumPy)."""

    def __init__(self, ll: np.ndarray, lp: np.ndarray) -> None:
        lp2 = np.broadcast_to(lp, ll.shape)
        self.score = np.ascontiguousarray((ll + lp2).T)  # (K, n)
        llt = ll.T
        self.flat = np.flatnonzero(llt.max(axis=0) - llt.min(axis=0) <= 0)
        self.flat_lp = np.ascontiguousarray(lp2[self.flat].T)

    def __call__(self, temperature: float) -> np.ndarray:
        z = self.score / float(temperature)
        if len(self.flat):
            z[:, self.flat] = self.flat_lp
        z -= z.max(axis=0)
        np.exp(z, out=z)
        z /= z.sum(axis=0)
        return z.T


def channel(counts: np.ndarray) -> np.ndarray:
    """Scoring channel ``P(s says l | k)`` from expected counts ``[s, k, l]``.

    Each source's rows are shrunk toward its own answer distribution (``CHANNEL_POOLING``
    pseudo-votes per row), and answers a source never gave keep probability 0 (a hidden
    vote with such an answer scores the floor ``P_FLOOR`` under every posterior). A source
    that always gives the same answer (a unipolar labeling function) thus has identical
    rows: its votes score exactly the same under every posterior and cannot tilt the
    comparison.
    """
    own = counts.sum(axis=1)  # (s, l): the source's answers
    own = own / np.clip(own.sum(axis=1, keepdims=True), 1e-12, None)
    c = counts + CHANNEL_POOLING * own[:, None, :]
    return c / np.clip(c.sum(axis=2, keepdims=True), 1e-300, None)


def uniform_by_key(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniform number in [0, 1) per key, from a salted hash of its text.

    The random splits of ``auto`` are drawn from these instead of from positions, so the
    same votes in another row order (a votes file written by ``lf apply`` vs the rules run
    by ``aggregate --lfs``) give the same choice; the salt comes from ``rng``.

    Parameters
    ----------
    keys : ndarray of shape (n,)
    rng : Generator

    Returns
    -------
    u : ndarray of shape (n,), float64
    """
    import pandas as pd

    salt = f"{int(rng.integers(2**63)):016x}"[-16:]
    text = np.asarray(keys).astype(str).astype(object)
    h = pd.util.hash_array(text, hash_key=salt, categorize=False)
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def subsample_items(
    votes: VoteArrays, max_votes: int, rng: np.random.Generator
) -> tuple[VoteArrays, np.ndarray]:
    """Votes of a random subset of items holding at most ``max_votes`` votes (all if fewer).

    Items keep all their votes and are re-coded ``0..m-1``; sources without a vote in the
    subset are dropped (the others re-coded in order), classes keep their codes.

    Returns
    -------
    votes : VoteArrays
    kept : ndarray of shape (m,), int64
        The kept items' codes in ``votes`` (row ``j`` of the subset is item ``kept[j]``).
    """
    if votes.n_votes <= max_votes:
        return votes, np.arange(votes.n_items)
    per_item = np.bincount(votes.item, minlength=votes.n_items)
    order = np.argsort(uniform_by_key(votes.item_ids, rng), kind="stable")
    keep_items = order[np.cumsum(per_item[order]) <= max_votes]
    new_code = np.full(votes.n_items, -1, dtype=np.int64)
    new_code[np.sort(keep_items)] = np.arange(len(keep_items))
    mask = new_code[votes.item] >= 0
    kept = np.sort(keep_items)
    src = votes.source[mask]
    used = np.flatnonzero(np.bincount(src, minlength=votes.n_sources) > 0)
    src_code = np.full(votes.n_sources, -1, dtype=np.int64)
    src_code[used] = np.arange(len(used))
    return _replace(
        votes,
        item=new_code[votes.item[mask]].astype(np.int32),
        source=src_code[src].astype(np.int32),
        label=votes.label[mask],
        weight=None if votes.weight is None else votes.weight[mask],
        n_items=len(kept),
        n_sources=len(used),
        item_ids=np.asarray(votes.item_ids)[kept],
        source_names=np.asarray(votes.source_names)[used],
        is_gold_source=np.asarray(votes.is_gold_source)[used],
    ), kept


def heldout_split(
    votes: VoteArrays, fraction: float, rng: np.random.Generator
) -> tuple[VoteArrays, np.ndarray]:
    """Hide a random ``fraction`` of the votes, never every real vote of an item.

    Which votes are hidden depends on their (item id, source name), not on their order.

    Returns
    -------
    train : VoteArrays
        The visible votes (same item, source and class codes).
    hidden : ndarray of shape (n_hidden,), int64
        Indices of the hidden votes in ``votes``.
    """
    k = _n_true(votes)
    real = votes.label < k
    keys = np.char.add(
        np.asarray(votes.item_ids).astype(str)[votes.item],
        np.char.add("\x1f", np.asarray(votes.source_names).astype(str)[votes.source]),
    )
    take = uniform_by_key(keys, rng) < fraction
    kept_real = np.bincount(votes.item[real & ~take], minlength=votes.n_items)
    take &= ~(real & (kept_real[votes.item] == 0))
    keep = ~take
    train = _replace(
        votes,
        item=votes.item[keep],
        source=votes.source[keep],
        label=votes.label[keep],
        weight=None if votes.weight is None else votes.weight[keep],
    )
    return train, np.flatnonzero(take)


@dataclass
class HeldoutScores:
    """One candidate's held-out vote log-likelihood at its best temperature.

    Attributes
    ----------
    temperature : float
        The ``T`` that maximised the mean held-out log-likelihood.
    mean : float
        That maximum (mean log-probability per hidden vote; higher is better).
    per_vote : ndarray of shape (n_hidden,), float64
        Log-probability of each hidden vote at ``temperature`` (all rounds concatenated).
    at_one : ndarray of shape (n_hidden,), float64
        The same at ``T = 1`` (the model's own posterior).
    """

    temperature: float
    mean: float
    per_vote: np.ndarray
    at_one: np.ndarray

    def tempering_helps(self, z: float, groups: np.ndarray | None = None) -> bool:
        """Whether ``temperature`` beats ``T = 1`` by more than ``z`` paired standard errors.

        When the held-out likelihood hardly depends on ``T`` (e.g. every source only ever
        gives one answer, so any posterior predicts its votes), ``T`` is not identified and
        the model's own posterior is kept.
        """
        diff = paired_diff(self.per_vote, self.at_one)
        if len(diff) < 2:
            return False
        return paired_z(self.per_vote, self.at_one, groups) > z


def score_heldout(
    rounds: list[tuple[VoteArrays, np.ndarray, np.ndarray]],
    votes: VoteArrays,
    hidden: list[np.ndarray],
    *,
    n_steps: int = 10,
) -> HeldoutScores:
    """Best temperature and held-out log-likelihood of one candidate over several rounds.

    Parameters
    ----------
    rounds : list of (train, ll, lp)
        Per round: the visible votes and the candidate's ``_log_scores`` on them (``ll`` of
        shape (n_items, K), ``lp`` of shape (K,) or (n_items, K)).
    votes : VoteArrays
        All votes (the hidden ones are indexed into it).
    hidden : list of ndarray
        Per round, the indices of the hidden votes.
    n_steps : int
        Golden-section steps on ``log T`` over :data:`T_RANGE`.

    Returns
    -------
    HeldoutScores
    """
    s, n_obs = votes.n_sources, votes.n_classes
    prepared = []
    for (train, ll, lp), h in zip(rounds, hidden, strict=True):
        A = _vote_matrix(train)
        prepared.append(
            (A, A.T, _Tempering(ll, lp), votes.item[h], votes.source[h], votes.label[h])
        )

    def per_vote(log_t: float) -> np.ndarray:
        t = float(np.exp(log_t))
        out = []
        for A, AT, tempering, hi, hs, hl in prepared:
            q = tempering(t)
            C = channel(_counts(A, q, s, n_obs, AT))
            p = np.einsum("nk,nk->n", q[hi], C[hs, :, hl])
            out.append(np.log(np.maximum(p, P_FLOOR)))
        return np.concatenate(out) if out else np.zeros(0)

    best_t, best = _golden_max(
        lambda x: float(per_vote(x).mean()) if sum(len(p[3]) for p in prepared) else 0.0,
        np.log(T_RANGE[0]),
        np.log(T_RANGE[1]),
        n_steps,
    )
    return HeldoutScores(float(np.exp(best_t)), best, per_vote(best_t), per_vote(0.0))


def paired_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a - b`` per hidden vote, with rounding noise (``|d| < 1e-9``) set to exactly 0."""
    d = a - b
    d[np.abs(d) < 1e-9] = 0.0
    return d


def paired_z(a: np.ndarray, b: np.ndarray, groups: np.ndarray | None = None) -> float:
    """Mean of ``a - b`` in standard errors; 0 when the mean gain is below ``MIN_GAIN`` nats
    per vote (numerically different but practically equal posteriors).

    Parameters
    ----------
    a, b : ndarray of shape (n,)
        Per-vote log-probabilities of two candidates on the same hidden votes.
    groups : ndarray of shape (n,), int, optional
        Cluster of each vote (its source): the standard error is then the larger of the
        plain and the cluster-robust one, so a gain that comes from a few sources (e.g. a
        few labeling functions) counts for less than one spread over many, and a handful
        of clusters cannot make the error look smaller than the plain one.
    """
    d = paired_diff(a, b)
    if not d.any() or abs(float(d.mean())) < MIN_GAIN:
        return 0.0
    n = len(d)
    se = float(d.std() / np.sqrt(n))
    if groups is not None:
        resid = np.bincount(groups, d - d.mean())
        se = max(se, float(np.sqrt((resid**2).sum()) / n))
    return float(d.mean() / se) if se > 0 else float(np.sign(d.mean()) * np.inf)


def _golden_max(
    f: Callable[[float], float], lo: float, hi: float, n_steps: int
) -> tuple[float, float]:
    """Maximise a (roughly unimodal) ``f`` on ``[lo, hi]``; returns (argmax, max) seen."""
    g = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    seen = [(c, fc), (d, fd)]
    for _ in range(n_steps):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
            seen.append((c, fc))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
            seen.append((d, fd))
    x, fx = max(seen, key=lambda t: t[1])
    return x, fx
