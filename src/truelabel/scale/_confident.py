"""Confident learning on row chunks: the same flags as :func:`truelabel.audit.find_label_issues`.

Three passes over ``(labels, pred_probs)`` chunks, each a map-reduce an engine can run
in sequence (bounded memory) or on Dask:

1. per-class sums and counts of self-confidence  ->  thresholds ``t_k``;
2. the confident joint (counts per ``[given, guessed]`` cell)  ->  calibrated joint,
   noise matrices and the number of items to prune per cell;
3. per cell, the items with the largest margins: each chunk keeps its own top ``n`` and
   chunks are merged by keeping the top ``n`` of the union (an associative reduction),
   plus the per-item post-step and scores (a map whose outputs are concatenated).

The per-chunk arithmetic calls :mod:`truelabel.audit`'s own helpers, so both paths
share one implementation of every formula.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError
from .._types import BoolArray, Float32Array, IntArray
from .._validation import check_labels, check_pred_probs
from ..audit._confident_joint import (
    _calibrate,
    _comparable_thresholds,
    _confident_guess,
)
from ..audit._filter import (
    FILTER_STRATEGIES,
    _check_options,
    _class_cells,
    _class_slices,
    _given_is_argmax,
    _prune_counts_from_joint,
    _prune_targets,
)
from ..audit._noise import NoiseEstimate, _noise_from_joint
from ..audit._scores import (
    LABEL_QUALITY_METHODS,
    _adjusted_margin,
    _compute_label_quality_scores,
    _normalized_margin,
    _self_confidence,
)
from ._engine import ChunkedArrays, Engine, LocalEngine, make_engine
from ._memory import chunk_rows_for, parse_memory

__all__ = [
    "ChunkedAudit",
    "audit_probabilities",
    "stream_confident_joint",
    "stream_find_label_issues",
    "stream_label_quality",
]

logger = logging.getLogger(__name__)

_UNREACHABLE = 2.0
ArrayOrPath = np.ndarray | str | Path


# --------------------------------------------------------------------------- inputs


def _as_source(x: ArrayOrPath, name: str) -> np.ndarray | str:
    if isinstance(x, str | Path):
        p = Path(x)
        if not p.exists():
            raise InputError(f"{name} file {p} does not exist.")
        if p.suffix != ".npy":
            raise InputError(f"{name} file {p} must be a .npy array (np.save); got {p.suffix!r}.")
        return str(p)
    return np.asarray(x) if not isinstance(x, np.ndarray) else x


def _shape(src: np.ndarray | str) -> tuple[int, ...]:
    arr = np.load(src, mmap_mode="r") if isinstance(src, str) else src
    return tuple(arr.shape)


def plan_chunk_rows(n_classes: int, max_memory: str | int | None, chunk_rows: int | None) -> int:
    """Rows per chunk for ``(labels, pred_probs)`` with ``n_classes`` columns.

    A row costs its float64 copies in the score and margin temporaries (about six
    ``K``-vectors) plus label, flag and score bytes.
    """
    if chunk_rows is not None:
        if chunk_rows < 1:
            raise InputError(f"chunk_rows must be at least 1; got {chunk_rows}.")
        return int(chunk_rows)
    return chunk_rows_for(parse_memory(max_memory), 6 * 8 * n_classes + 64)


def _chunked(
    labels: ArrayOrPath, pred_probs: ArrayOrPath, chunk_rows: int | None, max_memory: Any
) -> tuple[ChunkedArrays, int]:
    lab = _as_source(labels, "labels")
    prob = _as_source(pred_probs, "pred_probs")
    ps = _shape(prob)
    if len(ps) != 2:
        raise InputError(f"pred_probs must be a 2-D array (N items, K classes); got shape {ps}.")
    ls = _shape(lab)
    if len(ls) != 1:
        raise InputError(f"labels must be 1-D; got shape {ls}.")
    if ls[0] != ps[0]:
        raise InputError(
            f"labels has length {ls[0]} but pred_probs has {ps[0]} rows; pass one row of "
            "probabilities per label, in the same order."
        )
    if ps[0] == 0:
        raise InputError("labels is empty; the audit needs at least one item.")
    k = int(ps[1])
    rows = plan_chunk_rows(k, max_memory, chunk_rows)
    return ChunkedArrays({"labels": lab, "pred_probs": prob}, rows), k


# --------------------------------------------------------------------------- per-chunk maps


def _validate_chunk(chunk: dict[str, np.ndarray], lo: int, hi: int, k: int) -> IntArray:
    """Validate one chunk (row numbers in messages are global); return label counts."""
    try:
        labs = check_labels(np.asarray(chunk["labels"]), n_classes=k)
        check_pred_probs(chunk["pred_probs"], n_classes=k)
    except InputError as exc:
        raise InputError(f"rows {lo}..{hi - 1}: {exc}") from None
    return np.bincount(labs, minlength=k).astype(np.int64)


def _self_conf_chunk(
    chunk: dict[str, np.ndarray], lo: int, hi: int, k: int
) -> tuple[IntArray, np.ndarray, np.ndarray]:
    """(label counts (K,), labels (n,), self-confidence (n,) in the input dtype) of a chunk."""
    labs = np.asarray(chunk["labels"]).astype(np.int64, copy=False)
    own = np.asarray(chunk["pred_probs"])[np.arange(labs.shape[0]), labs]
    return np.bincount(labs, minlength=k).astype(np.int64), labs, own


def _fold_sums(
    state: tuple[IntArray, np.ndarray], part: tuple[IntArray, np.ndarray, np.ndarray]
) -> tuple[IntArray, np.ndarray]:
    """Continue the per-class float64 sums with the next chunk, item by item in row order.

    The running sums are fed to ``np.bincount`` ahead of the chunk's values, so the
    additions happen in exactly the order of one ``bincount`` over all N rows (what the
    in-memory thresholds do): the thresholds, hence the flags, are bit-identical.
    """
    counts, sums = state
    c, labs, own = part
    k = sums.shape[0]
    new = np.bincount(
        np.concatenate([np.arange(k), labs]),
        weights=np.concatenate([sums, own.astype(np.float64)]),
        minlength=k,
    )
    return counts + c, new


def _joint_counts(
    chunk: dict[str, np.ndarray], lo: int, hi: int, thresholds: np.ndarray
) -> IntArray:
    """Uncalibrated confident-joint counts ``[given, guessed]`` of one chunk, (K, K)."""
    labs = np.asarray(chunk["labels"]).astype(np.int64, copy=False)
    probs = chunk["pred_probs"]
    k = probs.shape[1]
    counted, guess = _confident_guess(probs, _comparable_thresholds(thresholds, probs.dtype))
    cell = labs[counted] * k + guess[counted]
    return np.bincount(cell, minlength=k * k).reshape(k, k).astype(np.int64)


# Candidates of one cell: (values (m,), float64; global indices (m,), int64)
Cells = dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]


def _keep_top(values: np.ndarray, index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` largest values; exact ties broken by the lowest index."""
    if values.shape[0] <= n:
        return values, index
    cut = np.partition(values, values.shape[0] - n)[values.shape[0] - n]
    above = values > cut
    n_tie = n - int(above.sum())
    tie = np.flatnonzero(values == cut)
    tie = tie[np.argsort(index[tie], kind="stable")[:n_tie]]
    keep = np.flatnonzero(above)
    keep = np.concatenate([keep, tie])
    return values[keep], index[keep]


def _cell_candidates(
    chunk: dict[str, np.ndarray], lo: int, hi: int, n_prune: IntArray, by: str
) -> Cells:
    """Per cell, this chunk's top candidates for pruning: the in-memory audit's own
    selection (:func:`truelabel.audit._filter._class_cells`) on the chunk's rows, with
    global row numbers, to be merged across chunks by :func:`_merge_cells`."""
    labs = np.asarray(chunk["labels"]).astype(np.int64, copy=False)
    probs = chunk["pred_probs"]
    order, bounds = _class_slices(labs, probs.shape[1])
    out: Cells = {}
    for c in range(probs.shape[1]):
        idx = order[bounds[c] : bounds[c + 1]]
        for key, (values, pos) in _class_cells(probs, idx, c, n_prune, by).items():
            out[key] = (values, idx[pos].astype(np.int64) + lo)
    return out


def _merge_cells(n_prune: IntArray, by: str) -> Any:
    def merge(a: Cells, b: Cells) -> Cells:
        out: Cells = dict(a)
        for key, (vb, ib) in b.items():
            if key not in out:
                out[key] = (vb, ib)
                continue
            va, ia = out[key]
            n = int(n_prune[key[1]] if by == "class" else n_prune[key])
            out[key] = _keep_top(np.concatenate([va, vb]), np.concatenate([ia, ib]), n)
        return out

    return merge


def _post_mask(chunk: dict[str, np.ndarray], lo: int, hi: int) -> BoolArray:
    """True where the given label is the row's arg-max (never flagged), one chunk."""
    labs = np.asarray(chunk["labels"]).astype(np.int64, copy=False)
    return _given_is_argmax(labs, chunk["pred_probs"])


def _simple_mask(
    chunk: dict[str, np.ndarray], lo: int, hi: int, filter_by: str, thresholds: np.ndarray
) -> BoolArray:
    labs = np.asarray(chunk["labels"]).astype(np.int64, copy=False)
    probs = chunk["pred_probs"]
    if filter_by == "confident_learning":
        counted, guess = _confident_guess(probs, _comparable_thresholds(thresholds, probs.dtype))
        mask = counted & (guess != labs)
    else:  # predicted_neq_given
        mask = probs.argmax(axis=1) != labs
    return mask & ~_given_is_argmax(labs, probs)


def _quality_chunk(
    chunk: dict[str, np.ndarray], lo: int, hi: int, method: str, thresholds: np.ndarray
) -> Float32Array:
    labs = np.asarray(chunk["labels"]).astype(np.int64, copy=False)
    probs = chunk["pred_probs"]
    if method in ("self_confidence", "normalized_margin", "confidence_weighted_entropy"):
        return _compute_label_quality_scores(labs, probs, method=method)
    if method == "adjusted_margin":
        t = np.where(thresholds > 1.0, 1.0, thresholds)
        score = _adjusted_margin(labs, probs, t)
    else:  # margin_x_confidence
        score = np.sqrt(_normalized_margin(labs, probs) * _self_confidence(labs, probs))
    return np.clip(score, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- reductions


@dataclass(frozen=True)
class ChunkedAudit:
    """What the chunked confident-learning passes found.

    Attributes
    ----------
    is_label_issue : ndarray of shape (N,), bool
        The same flags as :func:`truelabel.audit.find_label_issues` with the same options.
    label_quality : ndarray of shape (N,), float32 or None
        In [0, 1], lower = more likely mislabelled (``None`` when not requested).
    suggested_label : ndarray of shape (N,), int64 or None
        Arg-max class of each row (``None`` when not requested).
    thresholds : ndarray of shape (K,), float64
        Per-class confidence thresholds (2.0 for a class nobody was given).
    label_counts : ndarray of shape (K,), int64
    confident_joint : ndarray of shape (K, K), int64
        Calibrated, ``[given, true]``.
    noise : NoiseEstimate
        Joint, noise matrices, prior and noise rates (``truelabel.audit``'s type).
    n_chunks, chunk_rows : int
    """

    is_label_issue: BoolArray
    label_quality: Float32Array | None
    suggested_label: IntArray | None
    thresholds: np.ndarray
    label_counts: IntArray
    confident_joint: IntArray
    noise: NoiseEstimate
    n_chunks: int
    chunk_rows: int


def _thresholds_from(counts: IntArray, sums: np.ndarray) -> np.ndarray:
    t = np.full(counts.shape[0], _UNREACHABLE)
    present = counts > 0
    t[present] = sums[present] / counts[present]
    return t


def audit_probabilities(
    labels: ArrayOrPath,
    pred_probs: ArrayOrPath,
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    min_examples_per_class: int = 1,
    quality_method: str | None = "normalized_margin",
    engine: str | Engine = "local",
    scheduler: str | None = None,
    max_memory: str | int | None = None,
    chunk_rows: int | None = None,
    validate: bool = True,
    stages: Any = None,
) -> ChunkedAudit:
    """Confident learning over row chunks, in bounded memory or on Dask.

    Parameters
    ----------
    labels : ndarray of shape (N,) or path to ``.npy``
        Given labels, integer codes in ``[0, K)``.
    pred_probs : ndarray of shape (N, K) or path to ``.npy``
        Out-of-sample probabilities; a path is memory-mapped and read chunk by chunk.
    filter_by, frac_noise, min_examples_per_class
        As in :func:`truelabel.audit.find_label_issues`; the flagged set is the same.
    quality_method : str or None
        Label-quality score per item (see :func:`truelabel.audit.get_label_quality`;
        the neighbour part is not included); ``None`` skips it.
    engine : {"local", "dask"} or Engine
        ``local`` runs the chunks one after another in this process; ``dask`` runs them
        as tasks on a ``distributed`` cluster.
    scheduler : str, optional
        ``tcp://HOST:PORT`` for ``engine="dask"``; a local cluster when omitted.
    max_memory : str or int, optional
        Memory budget (e.g. ``"4GB"``) that sets the chunk size; default 2 GiB.
    chunk_rows : int, optional
        Rows per chunk (overrides ``max_memory``).
    validate : bool
        Check every chunk (probabilities in [0, 1] summing to 1, codes in range).
    stages : StageRunner, optional
        Checkpoint each pass (for resumable runs).

    Returns
    -------
    ChunkedAudit
    """
    data, k = _chunked(labels, pred_probs, chunk_rows, max_memory)
    _check_options(filter_by, frac_noise, min_examples_per_class, None)
    if quality_method is not None and quality_method not in LABEL_QUALITY_METHODS:
        raise InputError(
            f"quality_method must be one of {', '.join(LABEL_QUALITY_METHODS)} or None; "
            f"got {quality_method!r}."
        )
    eng = make_engine(engine, scheduler=scheduler)
    own = not isinstance(engine, Engine)
    n = data.n_rows
    try:

        def run(name: str, fn: Any) -> dict[str, Any]:
            if stages is None:
                return dict(fn(None))
            return dict(stages.run(name, fn, total=n))

        def pass1(advance: Any) -> dict[str, Any]:
            if validate:
                eng.map_sum(_validate_chunk, data, k)
            counts, sums = _exact_sums(eng, data, k, advance)
            return {"counts": counts, "sums": sums}

        p1 = run("thresholds", pass1)
        counts = np.asarray(p1["counts"], dtype=np.int64)
        thresholds = _thresholds_from(counts, np.asarray(p1["sums"], dtype=np.float64))

        def pass2(advance: Any) -> dict[str, Any]:
            return {"joint": eng.map_sum(_joint_counts, data, thresholds, advance=advance)}

        joint = np.asarray(run("confident_joint", pass2)["joint"], dtype=np.int64).copy()
        np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
        cal = _calibrate(joint, counts)
        noise = _noise_from_joint(cal)

        def pass3(advance: Any) -> dict[str, Any]:
            mask = _flag(
                eng,
                data,
                filter_by,
                frac_noise,
                min_examples_per_class,
                cal,
                thresholds,
                counts,
                advance,
            )
            out: dict[str, Any] = {"mask": mask}
            if quality_method is not None:
                out["quality"] = np.concatenate(
                    eng.map(_quality_chunk, data, quality_method, thresholds)
                )
                out["suggested"] = np.concatenate(eng.map(_argmax_chunk, data))
            return out

        p3 = run("flags", pass3)
    finally:
        eng.forget(data)
        if own:
            eng.close()
    return ChunkedAudit(
        is_label_issue=np.asarray(p3["mask"], dtype=bool),
        label_quality=None if "quality" not in p3 else np.asarray(p3["quality"]),
        suggested_label=None if "suggested" not in p3 else np.asarray(p3["suggested"]),
        thresholds=thresholds,
        label_counts=counts,
        confident_joint=cal,
        noise=noise,
        n_chunks=data.n_chunks,
        chunk_rows=data.chunk_rows,
    )


def _exact_sums(
    eng: Engine, data: ChunkedArrays, k: int, advance: Any = None
) -> tuple[IntArray, np.ndarray]:
    """Per-class counts and self-confidence sums, summed in row order (see :func:`_fold_sums`).

    The local engine folds chunk by chunk; other engines return each chunk's values
    (8 + 4 bytes a row) and the fold runs here, in chunk order.
    """
    state: tuple[IntArray, np.ndarray] = (np.zeros(k, dtype=np.int64), np.zeros(k))
    if isinstance(eng, LocalEngine):
        for i in range(data.n_chunks):
            lo, hi = data.bounds(i)
            state = _fold_sums(state, _self_conf_chunk(data.load(i), lo, hi, k))
            if advance is not None:
                advance(hi - lo)
        return state
    for part in eng.map(_self_conf_chunk, data, k, advance=advance):
        state = _fold_sums(state, part)
    return state


def _argmax_chunk(chunk: dict[str, np.ndarray], lo: int, hi: int) -> IntArray:
    return np.asarray(chunk["pred_probs"]).argmax(axis=1).astype(np.int64)


def _flag(
    eng: Engine,
    data: ChunkedArrays,
    filter_by: str,
    frac_noise: float,
    min_per_class: int,
    cal: IntArray,
    thresholds: np.ndarray,
    counts: IntArray,
    advance: Any,
) -> BoolArray:
    n = data.n_rows
    if filter_by in ("confident_learning", "predicted_neq_given"):
        return np.concatenate(eng.map(_simple_mask, data, filter_by, thresholds, advance=advance))
    pcm = _prune_counts_from_joint(cal, frac_noise, min_per_class)

    def select(by: str) -> BoolArray:
        n_prune = _prune_targets(pcm, counts, min_per_class, by)
        mask = np.zeros(n, dtype=bool)
        if not n_prune.any():
            return mask
        cells = eng.map_reduce(_cell_candidates, _merge_cells(n_prune, by), data, n_prune, by)
        for _, idx in cells.values():
            mask[idx] = True
        return mask

    if filter_by == "prune_by_noise_rate":
        mask = select("noise_rate")
    elif filter_by == "prune_by_class":
        mask = select("class")
    else:  # both
        mask = select("noise_rate") & select("class")
    mask &= ~np.concatenate(eng.map(_post_mask, data, advance=advance))
    return mask


# --------------------------------------------------------------------------- thin wrappers


def stream_find_label_issues(
    labels: ArrayOrPath,
    pred_probs: ArrayOrPath,
    *,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    min_examples_per_class: int = 1,
    engine: str | Engine = "local",
    scheduler: str | None = None,
    max_memory: str | int | None = None,
    chunk_rows: int | None = None,
) -> BoolArray:
    """:func:`truelabel.audit.find_label_issues` over row chunks (same flags).

    Parameters
    ----------
    labels : ndarray of shape (N,) or path to ``.npy``
    pred_probs : ndarray of shape (N, K) or path to ``.npy`` (memory-mapped)
    filter_by, frac_noise, min_examples_per_class
        As in :func:`truelabel.audit.find_label_issues`.
    engine, scheduler, max_memory, chunk_rows
        See :func:`audit_probabilities`.

    Returns
    -------
    is_label_issue : ndarray of shape (N,), bool
    """
    return audit_probabilities(
        labels,
        pred_probs,
        filter_by=filter_by,
        frac_noise=frac_noise,
        min_examples_per_class=min_examples_per_class,
        quality_method=None,
        engine=engine,
        scheduler=scheduler,
        max_memory=max_memory,
        chunk_rows=chunk_rows,
    ).is_label_issue


def stream_confident_joint(
    labels: ArrayOrPath,
    pred_probs: ArrayOrPath,
    *,
    calibrate: bool = True,
    engine: str | Engine = "local",
    scheduler: str | None = None,
    max_memory: str | int | None = None,
    chunk_rows: int | None = None,
) -> IntArray:
    """:func:`truelabel.audit.compute_confident_joint` over row chunks (same counts).

    Returns
    -------
    confident_joint : ndarray of shape (K, K), int64
        ``[given, true]``; calibrated rows sum to the number of items given each label.
    """
    data, k = _chunked(labels, pred_probs, chunk_rows, max_memory)
    eng = make_engine(engine, scheduler=scheduler)
    try:
        counts, sums = _exact_sums(eng, data, k)
        t = _thresholds_from(counts, sums)
        joint = np.asarray(eng.map_sum(_joint_counts, data, t), dtype=np.int64).copy()
    finally:
        if not isinstance(engine, Engine):
            eng.close()
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    return _calibrate(joint, counts) if calibrate else joint


def stream_label_quality(
    labels: ArrayOrPath,
    pred_probs: ArrayOrPath,
    *,
    method: str = "normalized_margin",
    engine: str | Engine = "local",
    scheduler: str | None = None,
    max_memory: str | int | None = None,
    chunk_rows: int | None = None,
) -> Float32Array:
    """Label-quality scores over row chunks (same as :func:`truelabel.audit.get_label_quality`
    without neighbours).

    Returns
    -------
    label_quality : ndarray of shape (N,), float32
        In [0, 1]; lower = more likely mislabelled.
    """
    if method not in LABEL_QUALITY_METHODS:
        raise InputError(
            f"method must be one of {', '.join(LABEL_QUALITY_METHODS)}; got {method!r}."
        )
    data, k = _chunked(labels, pred_probs, chunk_rows, max_memory)
    eng = make_engine(engine, scheduler=scheduler)
    try:
        t = np.full(k, _UNREACHABLE)
        if method == "adjusted_margin":
            counts, sums = _exact_sums(eng, data, k)
            t = _thresholds_from(counts, sums)
        return np.concatenate(eng.map(_quality_chunk, data, method, t))
    finally:
        if not isinstance(engine, Engine):
            eng.close()


__all__ += ["FILTER_STRATEGIES", "plan_chunk_rows"]
