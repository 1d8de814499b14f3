"""Shared fixtures: the path to ../shared/datasets and a skip marker when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRUELABEL_SHARED", ROOT.parent / "shared")) / "datasets"


def shared_path(*parts: str) -> Path:
    """Path under ../shared/datasets; skips the test with a reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not found (../shared/datasets is only present in the project's CI)")
    return p


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the feature cache of tests out of the user's ~/.cache (one per session)."""
    monkeypatch.setenv("TRUELABEL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
