"""Shared pieces of the estimate tests (imported as a top-level module; tests/ is on the path)."""

from __future__ import annotations

import warnings

import numpy as np

from truelabel.estimate import estimate_mean


def mean_coverage(
    y_all: np.ndarray, yhat: np.ndarray, *, n_gold: int, reps: int, rng: np.random.Generator
) -> dict[str, float]:
    """Coverage of ``estimate_mean``'s default 95% intervals over seeded gold draws.

    Each repetition draws ``n_gold`` gold rows uniformly without replacement from
    ``y_all`` (shape (N,)), with ``yhat`` (N,) as predictions on every row; the truth
    is ``y_all.mean()``. Returns the share of draws whose interval holds the truth for
    DSL, PPI++ and the classical (gold-only) estimate.
    """
    n_total = len(y_all)
    truth = y_all.mean()
    hits = {"dsl": 0, "ppi++": 0, "classical": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rep in range(reps):
            lab = np.zeros(n_total, bool)
            lab[rng.choice(n_total, n_gold, replace=False)] = True
            y = np.where(lab, y_all, np.nan)
            for m in ("dsl", "ppi++"):
                r = estimate_mean(y, yhat, method=m, random_state=rep)
                hits[m] += int(r.ci_low[0] <= truth <= r.ci_high[0])
            hits["classical"] += int(r.classical.ci_low[0] <= truth <= r.classical.ci_high[0])
    return {m: h / reps for m, h in hits.items()}
