"""Which items are label issues: confident learning's pruning strategies.

One private function per strategy, dispatched through :data:`_STRATEGIES`.
Every strategy returns a boolean mask (N,); :func:`find_label_issues` then
applies one documented post-step (see its Notes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .._errors import InputError
from .._types import BoolArray, IntArray
from .._validation import Interval, Options
from ._checks import check_labels_and_probs
from ._confident_joint import (
    BLOCK_ROWS,
    TOL,
    _comparable_thresholds,
    _compute_confident_joint,
    _compute_thresholds,
    _confident_guess,
    _round_preserving_row_totals,
)

__all__ = ["FILTER_STRATEGIES", "find_label_issues"]

logger = logging.getLogger(__name__)


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    min_examples_per_class: int = 1,
    n_jobs: int | None = None,
) -> BoolArray:
    """Flag the items whose given label is probably wrong (confident learning).

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample predicted probabilities (e.g. from
        :func:`truelabel.crossfit.cross_val_predict_proba`); rows sum to 1.
        float32 or float64; never copied whole (memory maps work).
    filter_by : {"prune_by_noise_rate", "prune_by_class", "both", "confident_learning", \
"predicted_neq_given"}, default="prune_by_noise_rate"
        - ``"prune_by_noise_rate"``: for every off-diagonal cell ``(i, j)`` of the
          calibrated confident joint, flag the ``C[i, j]`` items given ``i`` with the
          largest margin ``p_j - p_i``.
        - ``"prune_by_class"``: for every class ``i``, flag the ``n_i - C[i, i]``
          items given ``i`` with the lowest ``p_i``.
        - ``"both"``: items flagged by both of the above.
        - ``"confident_learning"``: the off-diagonal items of the (uncalibrated)
          confident joint — items whose confidently-guessed class is not their label.
        - ``"predicted_neq_given"``: ``argmax(pred_probs) != label``.
    frac_noise : float in (0, 1], default=1.0
        Flag only this fraction of the estimated issues in each cell (the pruning
        strategies only): the off-diagonal counts are multiplied by it, rounded down.
    min_examples_per_class : int >= 0, default=1
        The pruning strategies leave at least this many items in each class
        unflagged and never flag inside a class with at most this many items.
    n_jobs : int >= 1 or None, default=None
        Threads for the per-class pruning loops (None = 1). The result does not
        depend on it.

    Returns
    -------
    is_label_issue : ndarray of shape (N,), bool
        True where the given label is probably wrong.

    Notes
    -----
    Post-step, applied after every strategy: an item is **never** flagged when its
    given label has the highest predicted probability (ties within 1e-6 count as
    highest). Confident learning can otherwise flag such items when class
    thresholds differ a lot; cleanlab 2.9 applies the same rule (its
    ``_reduce_issues``), so options here match ``cleanlab.filter.find_label_issues``.

    The pruning strategies match cleanlab 2.9's counts exactly: the calibrated
    confident joint is transposed, each class's diagonal is raised to
    ``min_examples_per_class`` (taking the difference evenly from the non-zero
    off-diagonal cells of its column), off-diagonals are scaled by ``frac_noise``
    and truncated, and rows are rounded preserving totals. Items tied at a
    selection boundary are broken by index order of an introselect, which can
    differ from cleanlab's sort on exact ties only.
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    _check_options(filter_by, frac_noise, min_examples_per_class, n_jobs)
    return _compute_label_issues(
        labs,
        probs,
        filter_by=filter_by,
        frac_noise=frac_noise,
        min_examples_per_class=min_examples_per_class,
        n_jobs=1 if n_jobs is None else n_jobs,
    )


def _check_options(
    filter_by: Any, frac_noise: Any, min_examples_per_class: Any, n_jobs: Any
) -> None:
    checks: list[tuple[str, Any, Interval | Options, bool]] = [
        ("filter_by", filter_by, Options(tuple(_STRATEGIES)), False),
        ("frac_noise", frac_noise, Interval(float, 0, 1, closed="right"), False),
        ("min_examples_per_class", min_examples_per_class, Interval(int, 0, None), False),
        ("n_jobs", n_jobs, Interval(int, 1, None), True),
    ]
    for name, value, constraint, none_ok in checks:
        if none_ok and value is None:
            continue
        if not constraint.accepts(value):
            raise InputError(
                f"The {name!r} parameter of find_label_issues must be {constraint.describe()}"
                f"{' or None' if none_ok else ''}. Got {value!r} instead."
            )


def _compute_label_issues(
    labels: IntArray,
    pred_probs: np.ndarray,
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    min_examples_per_class: int = 1,
    n_jobs: int = 1,
) -> BoolArray:
    strategy = _STRATEGIES[filter_by]
    mask = strategy(labels, pred_probs, frac_noise, min_examples_per_class, n_jobs)
    flagged = np.flatnonzero(mask)  # the post-step only needs the flagged rows
    mask[flagged[_given_is_argmax(labels[flagged], pred_probs[flagged])]] = False
    logger.debug("find_label_issues(%s): %d of %d flagged", filter_by, mask.sum(), mask.size)
    return mask


# --------------------------------------------------------------------------- post-step


def _given_is_argmax(labels: IntArray, pred_probs: np.ndarray) -> BoolArray:
    """True where the given label's probability is the row max (within 1e-6)."""
    out = np.empty(labels.shape[0], dtype=bool)
    for start in range(0, labels.shape[0], BLOCK_ROWS):
        block = pred_probs[start : start + BLOCK_ROWS]
        lab = labels[start : start + BLOCK_ROWS]
        own = block[np.arange(lab.shape[0]), lab].astype(np.float64) + TOL
        # argmax after adding TOL to the given entry == label  <=>  no other entry beats it
        # (the first maximal index wins argmax, so an earlier exact tie must be strictly less)
        cols = np.arange(block.shape[1])
        beats = (block > own[:, None]) | ((block == own[:, None]) & (cols[None, :] < lab[:, None]))
        beats[np.arange(lab.shape[0]), lab] = False
        out[start : start + BLOCK_ROWS] = ~beats.any(axis=1)
    return out


# --------------------------------------------------------------------------- pruning


def _prune_counts(
    labels: IntArray, pred_probs: np.ndarray, frac_noise: float, min_per_class: int
) -> IntArray:
    """Counts to prune, indexed ``[true, given]`` (cleanlab's ``prune_count_matrix``)."""
    cj = _compute_confident_joint(labels, pred_probs, calibrate=True)
    return _prune_counts_from_joint(cj, frac_noise, min_per_class)


def _prune_counts_from_joint(cj: IntArray, frac_noise: float, min_per_class: int) -> IntArray:
    """Counts to prune ``[true, given]`` from a calibrated confident joint ``[given, true]``:
    transpose, raise the diagonal to ``min_per_class``, scale off-diagonals by
    ``frac_noise``, round keeping row totals. Shared with the streaming audit (``scale``)."""
    pcm = cj.T.astype(np.float64)
    diag = pcm.diagonal().copy()
    new_diag = np.maximum(diag, min_per_class)
    diff = new_diag - diag
    n_noise = np.maximum(np.count_nonzero(pcm, axis=0) - 1.0, 1.0)
    new = pcm - diff / n_noise
    new[new < 0] = 0
    np.fill_diagonal(new, new_diag)
    # scale off-diagonals by frac_noise, moving the removed mass to the diagonal
    scaled = new * frac_noise
    np.fill_diagonal(scaled, new.diagonal())  # so the sum below counts off-diagonals only
    np.fill_diagonal(scaled, new.diagonal() + np.sum(new - scaled, axis=0))
    return _round_preserving_row_totals(scaled.astype(np.int64).astype(np.float64))


def _class_slices(labels: IntArray, k: int) -> tuple[IntArray, IntArray]:
    """Item indices sorted by label, and the start offset of each class (K+1,)."""
    small = labels.astype(np.int16 if k <= np.iinfo(np.int16).max else np.int64)
    order = np.argsort(small, kind="stable")  # radix sort for 16-bit codes
    bounds = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(labels, minlength=k), out=bounds[1:])
    return order, bounds


def _prepare_pruning(
    labels: IntArray, pred_probs: np.ndarray, frac_noise: float, min_per_class: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Prune counts ``[true, given]`` and the class split, shared by both pruning rules."""
    pcm = _prune_counts(labels, pred_probs, frac_noise, min_per_class)
    order, bounds = _class_slices(labels, pred_probs.shape[1])
    return pcm, order, bounds


def _top_n(values: np.ndarray, n: int) -> IntArray:
    """Positions of the ``n`` largest values (any order among them).

    When ``n`` is small, a threshold from a 1-in-16 sample preselects candidates
    (every top-``n`` value is >= the threshold whenever at least ``n`` values are),
    so the partition runs on a few hundred values instead of the whole class.
    """
    m = values.shape[0]
    if n >= m:
        return np.arange(m)
    if m >= 4096 and n * 16 < m:
        sample = values[::16]
        rank = min(sample.shape[0] - 1, (3 * n) // 32 + 8)  # ~1.5x the expected share
        tau = np.partition(sample, sample.shape[0] - 1 - rank)[sample.shape[0] - 1 - rank]
        cand = np.flatnonzero(values >= tau)
        if cand.shape[0] >= n:
            return cand[np.argpartition(-values[cand], n - 1)[:n]]
    return np.argpartition(-values, n - 1)[:n]


def _run_per_class(fn: Callable[[int], IntArray | None], k: int, n_jobs: int, n: int) -> BoolArray:
    mask = np.zeros(n, dtype=bool)
    if n_jobs > 1 and k > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            results = list(pool.map(fn, range(k)))
    else:
        results = [fn(c) for c in range(k)]
    for flagged in results:
        if flagged is not None and flagged.size:
            mask[flagged] = True
    return mask


def _prune_targets(pcm: IntArray, counts: IntArray, min_per_class: int, by: str) -> IntArray:
    """How many items to prune: per class ``(K,)`` for ``by="class"`` (``n_c - C[c, c]``),
    per cell ``[true, given]`` ``(K, K)`` for ``by="noise_rate"``; 0 in classes with at most
    ``min_per_class`` items. Shared with the chunked audit (``truelabel.scale``)."""
    small = counts <= min_per_class  # classes too small to prune
    if by == "class":
        return np.where(small, 0, counts - pcm.diagonal()).astype(np.int64)
    n_prune = np.where(small[None, :], 0, pcm).astype(np.int64)
    np.fill_diagonal(n_prune, 0)
    return n_prune


def _class_cells(
    pred_probs: np.ndarray, idx: IntArray, c: int, n_prune: IntArray, by: str
) -> dict[tuple[int, int], tuple[np.ndarray, IntArray]]:
    """The items given class ``c`` (rows ``idx``) to prune, per cell, with their ranking values.

    ``by="class"``: cell ``(c, c)``, the ``n_prune[c]`` items with the lowest ``p_c``
    (value ``-p_c``). ``by="noise_rate"``: cells ``(j, c)``, the ``n_prune[j, c]`` items
    with the largest margin ``p_j - p_c``. Returns ``{cell: (values (m,), float64,
    positions into idx (m,))}``. The one selection of both :func:`find_label_issues` (all
    rows at once) and the chunked audit (each chunk, whose candidates are then merged by
    keeping the top ``n`` of the union).
    """
    out: dict[tuple[int, int], tuple[np.ndarray, IntArray]] = {}
    if idx.shape[0] == 0:
        return out
    if by == "class":
        n = int(n_prune[c])
        if n > 0:
            values = -pred_probs[idx, c]
            keep = _top_n(values, n)
            out[(c, c)] = (values[keep].astype(np.float64), keep)
        return out
    cols = [j for j in range(pred_probs.shape[1]) if j != c and n_prune[j, c] > 0]
    if not cols:
        return out
    # (n_c, K) rows of one class (~N/K of the input), transposed so columns are contiguous
    probs_c = np.ascontiguousarray(pred_probs[idx].T)
    own = probs_c[c]
    for j in cols:
        margin = probs_c[j] - own
        keep = _top_n(margin, int(n_prune[j, c]))
        out[(j, c)] = (margin[keep].astype(np.float64), keep)
    return out


def _prune(
    labels: IntArray,
    pred_probs: np.ndarray,
    min_per_class: int,
    n_jobs: int,
    prepared: tuple[IntArray, IntArray, IntArray],
    by: str,
) -> BoolArray:
    n, k = pred_probs.shape
    pcm, order, bounds = prepared
    n_prune = _prune_targets(pcm, np.diff(bounds), min_per_class, by)

    def one_class(c: int) -> IntArray | None:
        idx = order[bounds[c] : bounds[c + 1]]
        cells = _class_cells(pred_probs, idx, c, n_prune, by)
        return np.concatenate([idx[pos] for _, pos in cells.values()]) if cells else None

    return _run_per_class(one_class, k, n_jobs, n)


def _pruning(by: str) -> Callable[..., BoolArray]:
    """The ``prune_by_noise_rate`` (``by="noise_rate"``) or ``prune_by_class`` strategy."""

    def strategy(
        labels: IntArray,
        pred_probs: np.ndarray,
        frac_noise: float,
        min_per_class: int,
        n_jobs: int,
        prepared: tuple[IntArray, IntArray, IntArray] | None = None,
    ) -> BoolArray:
        prepared = prepared or _prepare_pruning(labels, pred_probs, frac_noise, min_per_class)
        return _prune(labels, pred_probs, min_per_class, n_jobs, prepared, by)

    return strategy


_prune_by_noise_rate = _pruning("noise_rate")
_prune_by_class = _pruning("class")


def _prune_both(
    labels: IntArray, pred_probs: np.ndarray, frac_noise: float, min_per_class: int, n_jobs: int
) -> BoolArray:
    prepared = _prepare_pruning(labels, pred_probs, frac_noise, min_per_class)
    by_class = _prune_by_class(labels, pred_probs, frac_noise, min_per_class, n_jobs, prepared)
    by_rate = _prune_by_noise_rate(labels, pred_probs, frac_noise, min_per_class, n_jobs, prepared)
    return by_class & by_rate


def _confident_learning(
    labels: IntArray, pred_probs: np.ndarray, frac_noise: float, min_per_class: int, n_jobs: int
) -> BoolArray:
    thresholds = _comparable_thresholds(_compute_thresholds(labels, pred_probs), pred_probs.dtype)
    mask = np.empty(labels.shape[0], dtype=bool)
    for start in range(0, labels.shape[0], BLOCK_ROWS):
        counted, guess = _confident_guess(pred_probs, thresholds, start, start + BLOCK_ROWS)
        mask[start : start + BLOCK_ROWS] = counted & (guess != labels[start : start + BLOCK_ROWS])
    return mask


def _predicted_neq_given(
    labels: IntArray, pred_probs: np.ndarray, frac_noise: float, min_per_class: int, n_jobs: int
) -> BoolArray:
    mask = np.empty(labels.shape[0], dtype=bool)
    for start in range(0, labels.shape[0], BLOCK_ROWS):
        block = pred_probs[start : start + BLOCK_ROWS]
        mask[start : start + BLOCK_ROWS] = (
            block.argmax(axis=1) != labels[start : start + BLOCK_ROWS]
        )
    return mask


_Strategy = Callable[[IntArray, np.ndarray, float, int, int], BoolArray]

_STRATEGIES: dict[str, _Strategy] = {
    "prune_by_noise_rate": _prune_by_noise_rate,
    "prune_by_class": _prune_by_class,
    "both": _prune_both,
    "confident_learning": _confident_learning,
    "predicted_neq_given": _predicted_neq_given,
}

FILTER_STRATEGIES: tuple[str, ...] = tuple(_STRATEGIES)
