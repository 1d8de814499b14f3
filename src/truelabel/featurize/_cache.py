"""On-disk cache of feature matrices keyed by content hash + model id."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["cache_dir", "content_hash", "load_cached", "save_cached"]


def cache_dir(override: str | Path | None = None) -> Path:
    """The cache folder: ``override``, else ``$TRUELABEL_CACHE_DIR``, else ``~/.cache/truelabel``."""
    if override is not None:
        p = Path(override)
    elif os.environ.get("TRUELABEL_CACHE_DIR"):
        p = Path(os.environ["TRUELABEL_CACHE_DIR"])
    else:
        p = Path.home() / ".cache" / "truelabel"
    return p


def content_hash(texts: Sequence[str], model_id: str) -> str:
    """SHA-256 over the model id and every text (order matters), hex digest."""
    h = hashlib.sha256()
    h.update(model_id.encode("utf-8"))
    h.update(len(texts).to_bytes(8, "little"))
    for t in texts:
        b = t.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _slug(model_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model_id)[:80]


def _path(root: Path, model_id: str, key: str, sparse: bool) -> Path:
    return root / "features" / _slug(model_id) / (key + (".npz" if sparse else ".npy"))


def load_cached(root: Path, model_id: str, key: str) -> np.ndarray | sp.csr_matrix | None:
    """Return the cached matrix or None. A corrupted entry is deleted and treated as a miss."""
    for sparse in (False, True):
        p = _path(root, model_id, key, sparse)
        if p.exists():
            try:
                if sparse:
                    return sp.load_npz(p).tocsr()
                return np.load(p, allow_pickle=False)
            except (OSError, ValueError):
                p.unlink(missing_ok=True)
    return None


def save_cached(root: Path, model_id: str, key: str, X: np.ndarray | sp.spmatrix) -> None:
    """Store ``X`` atomically (temp file + rename); failures to write are ignored."""
    sparse = sp.issparse(X)
    p = _path(root, model_id, key, sparse)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            if sparse:
                sp.save_npz(fh, sp.csr_matrix(X))
            else:
                np.save(fh, np.asarray(X), allow_pickle=False)
        os.replace(tmp, p)
    except OSError:
        pass
