"""Fixtures of the bad-input suite: one workspace per session, a private copy per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import build_workspace, copy_workspace


@pytest.fixture(scope="session")
def cli_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good inputs, prior runs and the table of bad files, built once (trains one model)."""
    old = os.environ.get("TRUELABEL_CACHE_DIR")
    os.environ["TRUELABEL_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "cache")
    try:
        return build_workspace(tmp_path_factory.mktemp("cli") / "base")
    finally:
        if old is None:
            os.environ.pop("TRUELABEL_CACHE_DIR", None)
        else:
            os.environ["TRUELABEL_CACHE_DIR"] = old


@pytest.fixture
def ws(cli_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the workspace, made the current folder."""
    work = copy_workspace(cli_base, tmp_path / "ws")
    monkeypatch.chdir(work)
    return work
