"""``featurize()``: pick a featurizer, use the cache, return features."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError
from ._base import Features, Featurizer
from ._cache import _path, cache_dir, content_hash, load_cached, save_cached

__all__ = [
    "FEATURIZERS",
    "LARGE_DATA_ROWS",
    "TABLE_FEATURIZERS",
    "featurize",
    "featurize_table",
    "get_featurizer",
    "is_cached",
    "resolve_featurizer",
]

logger = logging.getLogger(__name__)

#: Above this many rows ``auto`` picks ``static`` instead of ``minilm``.
LARGE_DATA_ROWS = 200_000


def _minilm(**kw: Any) -> Featurizer:
    from ._minilm import MiniLMFeaturizer

    return MiniLMFeaturizer(**kw)


def _static(**kw: Any) -> Featurizer:
    from ._static import StaticFeaturizer

    return StaticFeaturizer(**kw)


def _tfidf(**kw: Any) -> Featurizer:
    from ._tfidf import TfidfFeaturizer

    return TfidfFeaturizer(**kw)


FEATURIZERS: dict[str, Callable[..., Featurizer]] = {
    "minilm": _minilm,
    "static": _static,
    "tfidf": _tfidf,
}


def resolve_featurizer(name: str, n_rows: int) -> str:
    """Map ``auto`` to ``static`` for large data (> LARGE_DATA_ROWS rows), else ``minilm``."""
    if name == "auto":
        return "static" if n_rows > LARGE_DATA_ROWS else "minilm"
    if name not in FEATURIZERS:
        raise InputError(
            f"unknown featurizer {name!r}; choose one of auto, {', '.join(FEATURIZERS)}, vectors."
        )
    return name


def get_featurizer(name: str, **kwargs: Any) -> Featurizer:
    """Instantiate a registered featurizer by name (``minilm``, ``static``, ``tfidf``)."""
    resolved = resolve_featurizer(name, 0)
    return FEATURIZERS[resolved](**kwargs)


def is_cached(
    texts: Sequence[str] | np.ndarray, method: str, *, cache_path: str | Path | None = None
) -> bool:
    """Whether the features of ``texts`` by ``method`` are in the on-disk cache (no model is
    loaded: only the content hash is computed)."""
    texts = [str(t) for t in texts]
    feat = FEATURIZERS[resolve_featurizer(method, len(texts))]()
    key = content_hash(texts, feat.model_id)
    root = cache_dir(cache_path)
    return any(_path(root, feat.model_id, key, sparse).exists() for sparse in (False, True))


def featurize(
    texts: Sequence[str] | np.ndarray,
    method: str = "auto",
    *,
    cache: bool = True,
    cache_path: str | Path | None = None,
    **kwargs: Any,
) -> Features:
    """Featurize texts, reading and writing the on-disk cache.

    Parameters
    ----------
    texts : sequence of str, length N
    method : {"auto", "minilm", "static", "tfidf"}
        ``auto`` is ``static`` above 200k rows, ``minilm`` otherwise.
    cache : bool
        Use the cache (keyed by the SHA-256 of the texts and the featurizer's model id).
    cache_path : path, optional
        Cache folder; default ``$TRUELABEL_CACHE_DIR`` or ``~/.cache/truelabel``.
    **kwargs
        Passed to the featurizer's constructor.

    Returns
    -------
    X : ndarray of shape (N, D), float32; or CSR matrix for ``tfidf``.
    """
    texts = [str(t) for t in texts]
    name = resolve_featurizer(method, len(texts))
    if cache_path is not None and name in ("minilm", "static"):
        kwargs.setdefault("cache_path", cache_path)  # models live next to the features
    feat = FEATURIZERS[name](**kwargs)
    root = cache_dir(cache_path)
    key = content_hash(texts, feat.model_id) if cache else ""
    if cache:
        hit = load_cached(root, feat.model_id, key)
        if hit is not None and hit.shape[0] == len(texts):
            logger.info("features for %d texts from cache (%s)", len(texts), feat.model_id)
            return hit
    X = feat.transform(texts)
    if cache:
        save_cached(root, feat.model_id, key, X)
    return X


def _tabular(**kw: Any) -> Any:
    from ._tabular import TabularFeaturizer

    return TabularFeaturizer(**kw)


#: Featurizers of table columns (fitted on the training rows; ``to_spec``/``from_spec``).
TABLE_FEATURIZERS: dict[str, Callable[..., Any]] = {"tabular": _tabular}


def featurize_table(
    frame: Any,
    columns: str | Sequence[str] = "auto",
    *,
    exclude: Sequence[str | None] = (),
    method: str = "tabular",
) -> tuple[np.ndarray, Any]:
    """Fit a table featurizer on ``frame`` and encode it.

    Parameters
    ----------
    frame : DataFrame
    columns : "auto", "a,b,c" or list
        ``auto``: every column but ``exclude``.
    exclude : column names that are never features (label, id, bag …)
    method : {"tabular"}

    Returns
    -------
    X : ndarray of shape (N, D), float32
    featurizer : the fitted featurizer (``to_spec()`` to save it)
    """
    from ._tabular import resolve_feature_columns

    if method not in TABLE_FEATURIZERS:
        raise InputError(
            f"unknown table featurizer {method!r}; choose one of {', '.join(TABLE_FEATURIZERS)}."
        )
    cols = resolve_feature_columns(frame, columns, exclude=exclude)
    feat = TABLE_FEATURIZERS[method](columns=cols)
    return feat.fit_transform(frame), feat
