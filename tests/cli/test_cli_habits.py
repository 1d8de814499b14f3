"""Command-line habits: --version, global flags after the subcommand, --quiet, and
progress that stays out of pipes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import COMMAND, runner

from truelabel import __version__
from truelabel.cli._app import hoist_global_options


def _votes(path: Path) -> Path:
    rows = [
        {"item_id": i, "source": f"w{w}", "label": "a" if (i + (w == 2)) % 2 else "b"}
        for i in range(30)
        for w in range(3)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _hoist(args: list[str]) -> list[str]:
    ctx = COMMAND.make_context("truelabel", ["--help"], resilient_parsing=True)
    return hoist_global_options(COMMAND, ctx, args)


def test_version() -> None:
    r = runner.invoke(COMMAND, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"truelabel {__version__}"


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["aggregate", "v.csv", "--out", "r", "-v"], ["-v", "aggregate", "v.csv", "--out", "r"]),
        (["audit", "d.csv", "--quiet", "--out", "r"], ["--quiet", "audit", "d.csv", "--out", "r"]),
        (["-v", "audit", "d.csv"], ["-v", "audit", "d.csv"]),
        # a nested group: review import
        (["review", "import", "run", "-q", "--project", "p"],
         ["-q", "review", "import", "run", "--project", "p"]),
        # the value of an option stays its value, and nothing moves after --
        (["estimate", "d.csv", "-p", "-v"], ["estimate", "d.csv", "-p", "-v"]),
        (["aggregate", "--", "-v"], ["aggregate", "--", "-v"]),
    ],
)  # fmt: skip
def test_global_flags_after_the_subcommand_move_to_the_front(
    args: list[str], want: list[str]
) -> None:
    assert _hoist(args) == want


def test_verbose_and_quiet_work_after_the_subcommand(tmp_path: Path) -> None:
    votes = _votes(tmp_path / "v.csv")
    r = runner.invoke(COMMAND, ["aggregate", str(votes), "--out", str(tmp_path / "a"), "-v"])
    assert r.exit_code == 0, r.output
    assert "Error" not in r.output and (tmp_path / "a" / "report.html").is_file()
    loud = runner.invoke(COMMAND, ["aggregate", str(votes), "--out", str(tmp_path / "b")])
    quiet = runner.invoke(COMMAND, ["aggregate", str(votes), "--out", str(tmp_path / "c"), "-q"])
    assert loud.exit_code == quiet.exit_code == 0
    assert "wrote" in loud.stdout and quiet.stdout == ""
    # quiet is per invocation, not sticky
    again = runner.invoke(COMMAND, ["aggregate", str(votes), "--out", str(tmp_path / "d")])
    assert "wrote" in again.stdout


def test_no_progress_bars_in_a_pipe(tmp_path: Path) -> None:
    votes = _votes(tmp_path / "v.csv")
    r = runner.invoke(COMMAND, ["aggregate", str(votes), "--out", str(tmp_path / "a")])
    assert r.exit_code == 0
    assert "choose the label model" not in r.output and "ETA" not in r.output


def test_errors_still_show_with_quiet(tmp_path: Path) -> None:
    r = runner.invoke(COMMAND, ["-q", "aggregate", str(tmp_path / "nope.csv"), "--out", "x"])
    assert r.exit_code == 2 and "no such file" in r.output


def test_a_terminal_gets_the_progress_bars(tmp_path: Path) -> None:
    """The same steps, drawn: the CLI installs the rich display when stderr is a terminal."""
    import io

    from rich.console import Console

    from truelabel import aggregate
    from truelabel._progress import RichSink, progress_to

    buf = io.StringIO()
    with progress_to(RichSink(Console(file=buf, force_terminal=True, width=150))):
        aggregate(_votes(tmp_path / "v.csv"))
    out = buf.getvalue()
    assert "choose the label model" in out and "✓" in out and "iterations" in out
