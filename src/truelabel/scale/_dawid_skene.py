"""Dawid–Skene EM as reductions over vote chunks (bounded memory, or Dask partitions).

Votes are sorted by item once and cut into chunks at item boundaries, so every item's
votes live in one chunk. One EM iteration is then a single map-reduce: each chunk
computes its items' posterior from the current parameters (E-step) and returns only
the M-step sufficient statistics — expected counts ``[source, true, said]``, the
posterior column sums and its log-likelihood — which are summed. No per-item state is
kept between iterations; the posterior is produced once at the end. The M-step is the
label model's own (:class:`truelabel.aggregate.DawidSkene` or
:class:`~truelabel.aggregate.OneCoinDawidSkene`), so both paths fit the same model.
"""

from __future__ import annotations

import bisect
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._errors import InputError, NotFittedError
from .._types import Float32Array, IntArray
from .._validation import Interval, Options, check_params
from ..aggregate import DawidSkene, OneCoinDawidSkene
from ..sources._votes import VoteArrays, check_votes
from ._engine import ChunkedArrays, Engine, _worker_cache, make_engine
from ._memory import chunk_rows_for, parse_memory

__all__ = ["ChunkedDawidSkene", "load_vote_store", "save_vote_store"]

logger = logging.getLogger(__name__)


def _models() -> dict[str, type[DawidSkene]]:
    """Label models whose EM this module can run: DawidSkene and its subclasses."""
    from ..aggregate import METHODS

    found = {n: c for n, c in METHODS.items() if isinstance(c, type) and issubclass(c, DawidSkene)}
    found.setdefault("dawid_skene", DawidSkene)
    found.setdefault("one_coin", OneCoinDawidSkene)
    found["one_coin"] = OneCoinDawidSkene
    return found


_MODELS = _models()


@dataclass(frozen=True)
class _Layout:
    """Where chunk ``i``'s votes and items are: ``votes[v[i]:v[i+1]]`` and items ``[t[i], t[i+1])``."""

    vote_splits: tuple[int, ...]
    item_splits: tuple[int, ...]
    n_sources: int
    n_classes: int
    cache_key: str | None = None
    n_true: int | None = None

    def items_of(self, lo: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.vote_splits, lo) - 1
        return self.item_splits[i], self.item_splits[i + 1]


def _layout(item: np.ndarray, n_items: int, chunk_votes: int, s: int, k: int) -> _Layout:
    """Cut item-sorted votes into chunks of about ``chunk_votes`` at item boundaries."""
    n = item.shape[0]
    targets = np.arange(chunk_votes, n, chunk_votes)
    cuts = np.searchsorted(item, item[targets], side="left") if n else np.array([], np.int64)
    cuts = np.unique(cuts[cuts > 0])
    vote_splits = (0, *map(int, cuts), n)
    item_splits = (0, *(int(item[c]) for c in cuts), n_items)
    return _Layout(vote_splits, item_splits, s, k)


def _vote_matrix_of(chunk: dict[str, np.ndarray], lo: int, layout: _Layout) -> Any:
    """The chunk's one-hot vote matrix (m_items, S*K), cached per worker when allowed."""
    from ..aggregate._base import _vote_matrix

    cache = _worker_cache() if layout.cache_key else None
    key = ("ds_A", layout.cache_key, lo)
    if cache is not None and key in cache:
        return cache[key]
    ilo, ihi = layout.items_of(lo)
    item = np.asarray(chunk["item"]).astype(np.int64) - ilo
    weight = np.asarray(chunk["weight"], dtype=np.float32) if "weight" in chunk else None
    local = VoteArrays(
        item=item,
        source=np.asarray(chunk["source"]),
        label=np.asarray(chunk["label"]),
        n_items=ihi - ilo,
        n_sources=layout.n_sources,
        n_classes=layout.n_classes,
        item_ids=np.empty(0, dtype=object),
        source_names=np.empty(0, dtype=object),
        classes=np.empty(0, dtype=object),
        is_gold_source=np.zeros(0, dtype=bool),
        weight=weight,
    )
    A = _vote_matrix(local)
    if cache is not None:
        cache[key] = A
    return A


def _drop_cache(cache_key: str) -> None:
    """Forget the cached vote matrices of one fit (run on every worker at the end)."""
    cache = _worker_cache()
    for key in [k for k in cache if isinstance(k, tuple) and k[:2] == ("ds_A", cache_key)]:
        del cache[key]


def _posterior(
    chunk: dict[str, np.ndarray],
    lo: int,
    layout: _Layout,
    log_conf: np.ndarray | None,
    log_prior: np.ndarray | None,
    gold: IntArray | None,
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Posterior (m, K) of this chunk's items, per-item log-likelihood (m,), vote matrix.

    ``log_conf is None`` gives the initial posterior: (weighted) vote shares, uniform
    for items without votes, exactly as the in-memory model starts. The E-step uses the
    label model's own sparse products (:mod:`truelabel.aggregate._base`).
    """
    from .._numeric import softmax_with_lse
    from ..aggregate._base import _log_lik, _mv_posterior

    A = _vote_matrix_of(chunk, lo, layout)
    ilo, ihi = layout.items_of(lo)
    if log_conf is None:
        post = _mv_posterior(A, layout.n_sources, layout.n_classes, n_true=layout.n_true)
        lse = np.zeros(ihi - ilo)
    else:
        assert log_prior is not None
        ll = _log_lik(A, log_conf) + log_prior
        post, lse = softmax_with_lse(ll)
        if gold is not None:
            g = gold[ilo:ihi]
            gi = np.flatnonzero(g >= 0)
            if gi.size:
                lse = lse.copy()
                lse[gi] = ll[gi, g[gi]]
    if gold is not None:
        g = gold[ilo:ihi]
        gi = np.flatnonzero(g >= 0)
        if gi.size:
            post[gi] = 0.0
            post[gi, g[gi]] = 1.0
    return post, lse, A


def _em_chunk(
    chunk: dict[str, np.ndarray],
    lo: int,
    hi: int,
    layout: _Layout,
    log_conf: np.ndarray | None,
    log_prior: np.ndarray | None,
    gold: IntArray | None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """E-step on one chunk; returns the M-step statistics (counts [s, k, l], post sums, ll)."""
    from ..aggregate._base import _counts

    post, lse, A = _posterior(chunk, lo, layout, log_conf, log_prior, gold)
    counts = _counts(A, post, layout.n_sources, layout.n_classes)
    return counts, post.sum(axis=0), float(lse.sum())


def _posterior_chunk(
    chunk: dict[str, np.ndarray],
    lo: int,
    hi: int,
    layout: _Layout,
    log_conf: np.ndarray,
    log_prior: np.ndarray,
    gold: IntArray | None,
) -> Float32Array:
    post = _posterior(chunk, lo, layout, log_conf, log_prior, gold)[0]
    return np.asarray(post, dtype=np.float32)


# --------------------------------------------------------------------------- vote store


def save_vote_store(votes: VoteArrays, folder: str | Path) -> Path:
    """Write votes sorted by item as ``.npy`` files (memory-mapped by :class:`ChunkedDawidSkene`).

    Parameters
    ----------
    votes : VoteArrays
    folder : path
        Receives ``item.npy``, ``source.npy``, ``label.npy`` (``weight.npy``), ``gold.npy``
        (n_items,) and ``meta.json`` (sizes, class and source names).

    Returns
    -------
    Path
        The folder.
    """
    votes = check_votes(votes)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    gold = votes.gold_labels()
    plain = votes.without_gold()
    order = np.argsort(plain.item, kind="stable")
    for name in ("item", "source", "label"):
        np.save(out / f"{name}.npy", getattr(plain, name)[order].astype(np.int32))
    if plain.weight is not None:
        np.save(out / "weight.npy", plain.weight[order].astype(np.float32))
    np.save(out / "gold.npy", gold)
    meta = {
        "n_items": votes.n_items,
        "n_sources": votes.n_sources,
        "n_classes": votes.n_classes,
        "classes": [str(c) for c in votes.classes],
        "source_names": [str(s) for s in votes.source_names],
        "is_gold_source": votes.is_gold_source.tolist(),
    }
    (out / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return out


def load_vote_store(folder: str | Path) -> dict[str, Any]:
    """Read :func:`save_vote_store`'s ``meta.json`` and the paths of its arrays."""
    p = Path(folder)
    if not (p / "meta.json").exists():
        raise InputError(
            f"{p} is not a vote store (no meta.json); write one with "
            "truelabel.scale.save_vote_store(votes, folder)."
        )
    meta = json.loads((p / "meta.json").read_text("utf-8"))
    arrays = {
        n: str(p / f"{n}.npy")
        for n in ("item", "source", "label", "weight")
        if (p / f"{n}.npy").exists()
    }
    return {"meta": meta, "arrays": arrays, "gold": np.load(p / "gold.npy")}


# --------------------------------------------------------------------------- the EM on an engine


def chunk_votes_for(n_classes: int, max_memory: str | int | None, chunk_votes: int | None) -> int:
    """Votes per chunk: ``chunk_votes``, else what the memory budget allows."""
    if chunk_votes is not None:
        return int(chunk_votes)
    per_vote = 8 * (4 * n_classes + 6)  # per-vote temporaries of one chunk, float64
    return chunk_rows_for(parse_memory(max_memory), per_vote)


def fit_em(
    model: Any,
    data: ChunkedArrays,
    layout: _Layout,
    gold: IntArray,
    engine: str | Engine,
    *,
    scheduler: str | None = None,
) -> int:
    """Fit ``model`` (a :class:`truelabel.aggregate.DawidSkene` or subclass) by its own EM
    loop (best iterate, history, convergence, ``class_prior``, SQUAREM) with every E-step a
    map-sum over the vote chunks; sets the model's fitted attributes and returns the number
    of chunks. The state between steps is the M-step statistics, not the posterior, which
    is computed once at the end from the best parameters."""
    gold_arg = gold if (gold >= 0).any() else None
    eng = make_engine(engine, scheduler=scheduler)
    try:
        counts, post_sum, _ = eng.map_sum(_em_chunk, data, layout, None, None, gold_arg)

        def m_step(stats: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            return model._params_from_stats(stats[0], stats[1])  # type: ignore[no-any-return]

        def e_step(log_conf: np.ndarray, log_prior: np.ndarray) -> tuple[Any, float]:
            c, ps, total = eng.map_sum(
                _em_chunk, data, layout, log_conf, np.ravel(log_prior)[None, :], gold_arg
            )
            return (c, ps), float(total)

        best, history, converged, n_iter = model._em_loop(m_step, e_step, (counts, post_sum))
        _, _, log_conf, log_prior = best
        post = np.concatenate(
            eng.map(
                _posterior_chunk, data, layout, log_conf, np.ravel(log_prior)[None, :], gold_arg
            )
        ).astype(np.float64)
    finally:
        eng.forget(data)
        if layout.cache_key:
            client = getattr(eng, "client", None)
            if client is not None:
                client.run(_drop_cache, layout.cache_key)
            _drop_cache(layout.cache_key)
        if not isinstance(engine, Engine):
            eng.close()
    post /= post.sum(axis=1, keepdims=True)
    model._store_em(best, history, converged, n_iter, posterior=post)
    return data.n_chunks


def split_votes(
    votes: VoteArrays | str | Path,
    gold: IntArray | None,
    *,
    chunk_votes: int | None = None,
    max_memory: str | int | None = None,
) -> tuple[ChunkedArrays, _Layout, dict[str, Any], IntArray]:
    """Votes (in memory, gold votes already removed, or a vote-store folder) sorted by item
    and cut into chunks at item boundaries: ``(chunks, layout, meta, gold)``."""
    data, meta, g = _prepare(votes, gold)
    s, k = meta["n_sources"], meta["n_classes"]
    chunk = chunk_votes_for(k, max_memory, chunk_votes)
    arr = data.arrays["item"]
    item = np.load(arr, mmap_mode="r") if isinstance(arr, str | Path) else arr
    layout = _layout(np.asarray(item), meta["n_items"], chunk, s, k)
    n_true = int(meta.get("n_true", k))
    cache_key = None
    # keep each chunk's vote matrix between EM steps when all of them fit the budget
    # (about 16 bytes a vote); otherwise rebuild them every step
    if data.n_rows * 16 <= parse_memory(max_memory) // 2:
        import uuid

        cache_key = uuid.uuid4().hex
    layout = _Layout(layout.vote_splits, layout.item_splits, s, k, cache_key, n_true)
    return ChunkedArrays(data.arrays, chunk, layout.vote_splits), layout, meta, g


def fit_on_engine(model: Any, votes: VoteArrays, gold: IntArray) -> None:
    """``DawidSkene(engine=...)._fit``: the model's EM over chunks of ``votes`` (gold-free)."""
    data, layout, _, g = split_votes(votes, gold, chunk_votes=getattr(model, "chunk_votes", None))
    fit_em(model, data, layout, g, model.engine)


def _prepare(
    votes: VoteArrays | str | Path, gold: IntArray | None
) -> tuple[ChunkedArrays, dict[str, Any], IntArray]:
    if isinstance(votes, str | Path):
        store = load_vote_store(votes)
        meta, arrays, g = store["meta"], store["arrays"], np.asarray(store["gold"])
        item = np.load(arrays["item"], mmap_mode="r")
        if item.shape[0] > 1 and (np.diff(item[: min(item.shape[0], 1_000_000)]) < 0).any():
            raise InputError(f"{votes}: item.npy is not sorted; write it with save_vote_store.")
        data = ChunkedArrays(dict(arrays), max(1, item.shape[0]))
    else:
        v = check_votes(votes)
        g = v.gold_labels()
        plain = v.without_gold()
        order = np.argsort(plain.item, kind="stable")
        arrays_m: dict[str, Any] = {
            "item": plain.item[order],
            "source": plain.source[order],
            "label": plain.label[order],
        }
        if plain.weight is not None:
            arrays_m["weight"] = plain.weight[order]
        meta = {
            "n_items": v.n_items,
            "n_sources": v.n_sources,
            "n_classes": v.n_classes,
            "n_true": int(v.info.get("n_true_classes", v.n_classes)),
            "classes": list(v.classes),
            "is_gold_source": v.is_gold_source.tolist(),
        }
        data = ChunkedArrays(arrays_m, max(1, plain.n_votes))
    if gold is not None:
        arr = np.asarray(gold)
        if arr.shape != (meta["n_items"],) or arr.dtype.kind not in "iu":
            raise InputError(
                f"gold must be integer class codes of shape ({meta['n_items']},) with -1 for "
                f"items without gold; got shape {arr.shape}, dtype {arr.dtype}."
            )
        if arr.size and arr.max() >= meta["n_classes"]:
            raise InputError(
                f"gold holds class code {int(arr.max())} but there are only "
                f"{meta['n_classes']} classes."
            )
        g = np.where(arr >= 0, arr, g).astype(np.int64)
    if data.n_rows == 0:
        raise InputError("there are no votes to aggregate.")
    return data, meta, np.asarray(g, dtype=np.int64)


# --------------------------------------------------------------------------- compatibility


class ChunkedDawidSkene(BaseEstimator):  # type: ignore[misc]
    """``DawidSkene(engine=...)`` that also reads a vote-store folder (compatibility name).

    The fit is :class:`truelabel.aggregate.DawidSkene`'s own EM loop run over vote chunks
    (:func:`fit_em`); this class only adds the model choice by name, the vote store and the
    chunk size from a memory budget.

    Parameters
    ----------
    model : {"dawid_skene", "ds", "one_coin", "onecoin", "ds_pooled"}
        Full confusion matrices, one accuracy per source, or DS shrunk toward the pooled
        confusion (the names of :data:`truelabel.aggregate.METHODS`).
    max_iter, tol, smoothing : optional
        As in :class:`truelabel.aggregate.DawidSkene`; ``None`` keeps the model's default.
    model_params : dict, optional
        Further parameters of the model (e.g. ``{"pooling": 7.0}``, ``class_prior``,
        ``acceleration``).
    engine : {"local", "dask"} or Engine
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a Dask scheduler; a local cluster when omitted.
    max_memory : str or int, optional
        Budget that sets the votes per chunk (default 2 GiB).
    chunk_votes : int, optional
        Votes per chunk (overrides ``max_memory``); chunks end at item boundaries.
    random_state : int, Generator or None
        Unused (deterministic initialisation); kept for a uniform interface.

    Attributes
    ----------
    posterior_ : ndarray of shape (n_items, n_classes), float32
    labels_ : ndarray of shape (n_items,), int64
    confusion_ : ndarray of shape (n_sources, n_classes, n_classes), float32
        ``P(source says l | true k)`` indexed ``[s, k, l]`` (identity for gold sources).
    prior_ : ndarray of shape (n_classes,), float32
    n_iter_, converged_, log_likelihood_, n_chunks_
    """

    _constraints = {
        "model": [Options(tuple(_MODELS))],
        "max_iter": [Interval(int, 1, None), None],
        "tol": [Interval(float, 0, None), None],
        "smoothing": [Interval(float, 0, None), None],
        "chunk_votes": [Interval(int, 1, None), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        model: str = "dawid_skene",
        max_iter: int | None = None,
        tol: float | None = None,
        smoothing: float | None = None,
        model_params: dict[str, Any] | None = None,
        engine: str | Engine = "local",
        scheduler: str | None = None,
        max_memory: str | int | None = None,
        chunk_votes: int | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.model = model
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.model_params = model_params
        self.engine = engine
        self.scheduler = scheduler
        self.max_memory = max_memory
        self.chunk_votes = chunk_votes
        self.random_state = random_state

    def fit(
        self, votes: VoteArrays | str | Path, gold: IntArray | None = None
    ) -> ChunkedDawidSkene:
        """Fit on a :class:`~truelabel.sources.VoteArrays` or a vote-store folder.

        Parameters
        ----------
        votes : VoteArrays or path
            In-memory votes, or a folder written by :func:`save_vote_store` (its arrays
            are memory-mapped and read chunk by chunk).
        gold : ndarray of shape (n_items,), int, optional
            Gold class codes, -1 where unknown (combined with gold-source votes).

        Returns
        -------
        self
        """
        from ..aggregate._base import _prior_param

        check_params(self)
        given: dict[str, Any] = {
            "max_iter": self.max_iter,
            "tol": self.tol,
            "smoothing": self.smoothing,
        }
        inner = _MODELS[self.model](
            **{k: v for k, v in given.items() if v is not None}, **(self.model_params or {})
        )
        check_params(inner)
        data, layout, meta, g = split_votes(
            votes, gold, chunk_votes=self.chunk_votes, max_memory=self.max_memory
        )
        k = int(meta.get("n_true", meta["n_classes"]))
        inner._class_prior = _prior_param(getattr(inner, "class_prior", None), k)
        self.n_chunks_ = fit_em(inner, data, layout, g, self.engine, scheduler=self.scheduler)
        conf = np.array(inner.confusion_, dtype=np.float32)
        conf[np.asarray(meta["is_gold_source"], dtype=bool)] = np.eye(
            k, meta["n_classes"], dtype=np.float32
        )
        self.posterior_ = inner.posterior_
        self.labels_ = np.argmax(self.posterior_, axis=1).astype(np.int64)
        self.confusion_ = conf
        self.prior_ = inner.prior_
        self.classes_ = np.asarray(meta["classes"], dtype=object)[:k]
        self.gold_ = g
        self.n_iter_ = inner.n_iter_
        self.converged_ = inner.converged_
        self.log_likelihood_ = inner.log_likelihood_
        self.log_likelihood_history_ = inner.log_likelihood_history_
        return self

    def predict_proba(self) -> Float32Array:
        """The fitted posterior, shape (n_items, n_classes), float32."""
        if not hasattr(self, "posterior_"):
            raise NotFittedError("This ChunkedDawidSkene is not fitted yet; call fit(votes) first.")
        return np.asarray(self.posterior_)
