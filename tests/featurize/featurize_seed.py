"""Copy hash-verified exported models from the user's cache into the test session's cache.

The tests run with an isolated cache (``tests/conftest.py``), which would re-export the
ONNX model and re-distill the static table every session. When the developer's own cache
(``~/.cache/truelabel/models``) already holds valid files they are copied instead; on a
fresh machine (CI) the real export/distillation runs once per session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from truelabel.featurize._onnx import _is_valid


def seed_models(dest: Path) -> None:
    """Copy every ``*.onnx`` / ``*.npz`` with a matching ``.sha256`` sidecar into ``dest``."""
    src = Path.home() / ".cache" / "truelabel" / "models"
    if not src.is_dir():
        return
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.iterdir()):
        if f.suffix not in (".onnx", ".npz") or (dest / f.name).exists() or not _is_valid(f):
            continue
        side = f.with_name(f.name + ".sha256")
        shutil.copy2(side, dest / side.name)
        shutil.copy2(f, dest / f.name)
