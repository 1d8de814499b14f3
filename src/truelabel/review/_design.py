"""The review sampling design: which items enter the queue, with what probability.

Two designs, both recording each item's inclusion probability ``pi`` so that
estimates from the reviewed items can be design-weighted (Horvitz-Thompson,
DSL/PPI with ``--sampling-prob-column``):

``census``
    Every item is queued (``pi = 1``) and reviewed in priority order. The
    probabilities are only valid if the queue is finished; ``review export``
    says whether it was.
``poisson``
    Item ``i`` is queued independently with probability
    ``pi_i = min(1, c * w_i)``, ``w_i = (1 - floor) * s_i^power / sum(s^power) + floor / n``,
    where ``s_i`` is its priority and ``c`` makes ``sum(pi) = budget``; a larger
    ``power`` concentrates the budget on the top of the ranking. Uncertain
    items are favoured; ``floor`` keeps every ``pi_i >= floor * budget / n > 0``.
"""

from __future__ import annotations

import numpy as np

from .._errors import InputError
from .._types import FloatArray
from .._validation import check_random_state

__all__ = ["inclusion_probabilities", "sample_tasks"]


def inclusion_probabilities(
    priority: FloatArray, budget: float, *, floor: float = 0.1, power: float = 1.0
) -> np.ndarray:
    """Inclusion probabilities proportional to priority, mixed with a uniform floor.

    Parameters
    ----------
    priority : ndarray of shape (n_items,)
        Worth of a human label, >= 0 (higher = review sooner), e.g. ``1 - label_quality``.
    budget : float
        Expected number of queued items, in (0, n_items].
    floor : float
        Share of the budget spread uniformly, in (0, 1].
    power : float
        Exponent on the priority, > 0 (1 = proportional).

    Returns
    -------
    pi : ndarray of shape (n_items,), float64
        In (0, 1], summing to ``budget``.
    """
    s = np.clip(np.nan_to_num(np.asarray(priority, dtype=np.float64), nan=0.0), 0.0, None)
    n = s.shape[0]
    if n == 0:
        return np.zeros(0)
    if not 0 < budget <= n:
        raise InputError(
            f"review budget {budget} must be in (0, {n}] (the number of items); lower --budget."
        )
    if not 0 < floor <= 1:
        raise InputError(f"review floor {floor} must be in (0, 1]; pass e.g. --floor 0.1.")
    if not power > 0:
        raise InputError(f"review power {power} must be > 0; pass e.g. --power 2.")
    s = s**power
    total = s.sum()
    w = (1 - floor) * (s / total if total > 0 else np.full(n, 1.0 / n)) + floor / n
    pi = np.zeros(n)
    capped = np.zeros(n, dtype=bool)
    for _ in range(n):  # at most n capping rounds; usually 1-3
        free = ~capped
        remaining = budget - capped.sum()
        pi[free] = remaining * w[free] / w[free].sum()
        over = free & (pi >= 1.0)
        if not over.any():
            break
        capped |= over
        pi[capped] = 1.0
    return np.clip(pi, 0.0, 1.0)


def sample_tasks(
    priority: FloatArray,
    *,
    design: str = "census",
    budget: float | None = None,
    floor: float = 0.1,
    power: float = 1.0,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the review queue.

    Parameters
    ----------
    priority : ndarray of shape (n_items,)
        Higher = a human label is worth more.
    design : {"census", "poisson"}
    budget : float, optional
        Expected queue size for ``poisson`` (required there).
    floor : float
        Uniform share for ``poisson``.
    power : float
        Exponent on the priority for ``poisson``.
    random_state : int, Generator or None

    Returns
    -------
    selected : ndarray of shape (n_items,), bool
    pi : ndarray of shape (n_items,), float64
        The probability each item had of being selected.
    """
    n = np.asarray(priority).shape[0]
    if design == "census":
        return np.ones(n, dtype=bool), np.ones(n)
    if design != "poisson":
        raise InputError(
            f"review design {design!r} is not one of ['census', 'poisson']; pass --design census or poisson."
        )
    if budget is None:
        raise InputError(
            "the poisson review design needs --budget (expected number of items to review)."
        )
    pi = inclusion_probabilities(priority, min(float(budget), float(n)), floor=floor, power=power)
    rng = check_random_state(random_state)
    return rng.random(n) < pi, pi
