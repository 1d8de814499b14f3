"""``truelabel scale audit|aggregate``: thin commands, real small runs, resumption."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from scale_helpers import noisy_probs
from typer.testing import CliRunner

from truelabel.aggregate import DawidSkene
from truelabel.cli import app
from truelabel.scale import aggregate_large
from truelabel.scale._stages import checkpoint_dir_for
from truelabel.sources import votes_from_table

runner = CliRunner()


def test_scale_audit_cli_passes_options_through(tmp_path: Path) -> None:
    fake = mock.MagicMock()
    fake.summary = {"n": 3, "counts": {"label_error": 0}, "noise_rate": 0.0, "timings_s": {}}
    fake.top_issues = pd.DataFrame(columns=["given_label", "suggested_label", "label_quality"])
    fake.out = tmp_path / "run"
    with mock.patch("truelabel.scale.audit_large", return_value=fake) as api:
        res = runner.invoke(
            app,
            [
                "scale",
                "audit",
                "d.parquet",
                "--label-column",
                "y",
                "--out",
                str(tmp_path / "run"),
                "--engine",
                "dask",
                "--scheduler",
                "tcp://10.0.0.1:8786",
                "--max-memory",
                "4GB",
                "--resume",
            ],
        )
    assert res.exit_code == 0, res.output
    kw = api.call_args.kwargs
    assert kw["engine"] == "dask" and kw["scheduler"] == "tcp://10.0.0.1:8786"
    assert kw["max_memory"] == "4GB" and kw["resume"] is True and kw["label"] == "y"


def test_scale_audit_cli_on_given_probabilities(tmp_path: Path) -> None:
    labels, probs = noisy_probs(3000, 4, seed=9)
    pd.DataFrame({"y": labels}).to_parquet(tmp_path / "d.parquet")
    np.save(tmp_path / "p.npy", probs)
    res = runner.invoke(
        app,
        [
            "scale",
            "audit",
            str(tmp_path / "d.parquet"),
            "--label-column",
            "y",
            "--pred-probs",
            str(tmp_path / "p.npy"),
            "--max-memory",
            "8MB",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "label issues" in res.output
    bad = runner.invoke(
        app,
        [
            "scale",
            "audit",
            str(tmp_path / "d.parquet"),
            "--label-column",
            "y",
            "--out",
            str(tmp_path / "r2"),
            "--pred-probs",
            str(tmp_path / "p.npy"),
            "--max-memory",
            "heaps",
        ],
    )
    assert bad.exit_code == 2 and "max_memory 'heaps'" in bad.output


def _votes_table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n, m = 800, 8
    y = rng.integers(0, 3, n)
    rows = []
    for s in range(m):
        acc = 0.5 + 0.05 * s
        voted = rng.random(n) < 0.6
        lab = np.where(rng.random(n) < acc, y, rng.integers(0, 3, n))
        rows.append(
            pd.DataFrame(
                {
                    "item_id": np.flatnonzero(voted),
                    "source": f"w{s}",
                    "label": np.array(["a", "b", "c"])[lab[voted]],
                }
            )
        )
    path = tmp_path / "votes.parquet"
    pd.concat(rows).to_parquet(path)
    return path


def test_scale_aggregate_cli_equals_dawid_skene(tmp_path: Path) -> None:
    path = _votes_table(tmp_path)
    res = runner.invoke(
        app,
        ["scale", "aggregate", str(path), "--out", str(tmp_path / "agg"), "--chunk-votes", "700"],
    )
    assert res.exit_code == 0, res.output
    labels = pd.read_parquet(tmp_path / "agg" / "labels")
    ref = DawidSkene().fit(votes_from_table(path))
    np.testing.assert_allclose(labels[["p_a", "p_b", "p_c"]].to_numpy(), ref.posterior_, atol=1e-4)
    sources = pd.read_parquet(tmp_path / "agg" / "sources.parquet")
    assert sources["source"].iloc[0] == "w7"  # the most accurate worker ranks first


def test_aggregate_large_resumes_after_interrupt(tmp_path: Path) -> None:
    path = _votes_table(tmp_path)
    out = tmp_path / "agg"
    with pytest.raises(RuntimeError, match="simulated interruption"):
        aggregate_large(path, out=out, chunk_votes=500, progress=False, _fail_after="code")
    assert (checkpoint_dir_for(out) / "code" / "done.json").exists() and not out.exists()
    res = aggregate_large(path, out=out, chunk_votes=500, progress=False, resume=True)
    assert res.resumed_stages == ["code"]
    assert res.summary["n_items"] == len(pd.read_parquet(out / "labels"))
