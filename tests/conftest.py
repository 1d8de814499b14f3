"""Shared fixtures: the path to ../shared/datasets and a skip marker when it is absent."""

from __future__ import annotations

import pytest

from _shared import ROOT, SHARED, seed_models, shared_path  # noqa: F401  (re-exported)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the feature cache of tests out of the user's ~/.cache (one per session)."""
    monkeypatch.setenv("TRUELABEL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session", autouse=True)
def _seeded_models(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Reuse the developer's already-built model files in the session's isolated cache."""
    seed_models(tmp_path_factory.getbasetemp() / "cache" / "models")
