"""The example scripts in docs/examples run as written, on the real data they name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _shared import ROOT, shared_path

# about 40 s of CPU (a 77-class TF-IDF audit): with make test-full, not in the fast suite
pytestmark = [pytest.mark.shared, pytest.mark.full]


def test_notebook_tour_runs_and_writes_both_reports(tmp_path: Path) -> None:
    shared_path("text", "banking77", "train.csv")
    shared_path("crowd", "snow2008", "rte.standardized.tsv")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / "notebook_tour.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "AuditResult(n=3000, n_classes=77" in out.stdout
    assert "AggregateResult(" in out.stdout
    for stage in ("audit", "aggregate"):
        page = (tmp_path / stage / "report.html").read_text(encoding="utf-8")
        assert "<svg" in page and "report.js" in page
        assert (tmp_path / stage / "report.js").is_file()
