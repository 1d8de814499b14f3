"""The output policy of every command (issue 14, part 1), checked before any computation.

A run folder is written only into a new folder, an empty one, a previous run of the same
kind, or with ``--overwrite``; never over the command's own input, the folder holding it,
the current folder, another kind of run or a user's folder; a file output never replaces
a file it did not write and never gets a name that lies about its format.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import invoke, refused

TFIDF = ["--featurizer", "tfidf"]
PP = ["--pred-probs", "probs.npy"]  # audits without featurizing: fast

#: command writing a run folder -> (command line with ``O`` as --out, kind it writes)
RUN_COMMANDS: dict[str, tuple[Callable[[str], list[str]], str]] = {
    "audit": (
        lambda o: ["audit", "data.csv", "--label-column", "label", *PP, "--out", o],
        "audit",
    ),
    "train": (
        lambda o: (
            ["train", "data.csv", "--text-column", "text", "--label-column", "label"]
            + [*TFIDF, "--out", o]
        ),
        "model",
    ),
    "aggregate": (lambda o: ["aggregate", "votes.csv", "--out", o], "aggregate"),
    "aggregate --lfs": (
        lambda o: ["aggregate", "data.csv", "--lfs", "rules.py", "--out", o],
        "aggregate",
    ),
    "label": (
        lambda o: (
            ["label", "data.csv", "--text-column", "text", "--classes", "neg,pos"]
            + [*TFIDF, "--out", o]
        ),
        "label",
    ),
    "estimate": (lambda o: ["estimate", "est.csv", "--out", o], "estimate"),
    "plan": (lambda o: ["plan", "est.csv", "--target-width", "0.5", "--out", o], "plan"),
    "plan --select": (
        lambda o: ["plan", "est.csv", "--select", "5", "--out", o],
        "plan-select",
    ),
    "review export": (
        lambda o: ["review", "export", "--project", "p", "--db", "review.db", "--out", o],
        "review",
    ),
    "scale audit": (
        lambda o: ["scale", "audit", "data.csv", "--label-column", "label", *PP, "--out", o],
        "audit",
    ),
    "scale aggregate": (lambda o: ["scale", "aggregate", "votes.csv", "--out", o], "aggregate"),
    "scale predict": (lambda o: ["scale", "predict", "model", "data.csv", "--out", o], "predict"),
    "demo": (lambda o: ["demo", "--out", o], "audit"),
}


@pytest.mark.parametrize("command", list(RUN_COMMANDS))
def test_run_of_another_kind_is_kept(ws: Path, command: str) -> None:
    make, kind = RUN_COMMANDS[command]
    other = "agg_run" if kind != "aggregate" else "audit_run"
    refused(make(other), r"holds a previous `\w+` run.*--overwrite", code=2)


@pytest.mark.parametrize("command", list(RUN_COMMANDS))
def test_users_folder_is_kept(ws: Path, command: str) -> None:
    refused(RUN_COMMANDS[command][0]("user_dir"), r"not a truelabel run folder.*--overwrite")


@pytest.mark.parametrize("command", list(RUN_COMMANDS))
def test_a_file_is_not_a_run_folder(ws: Path, command: str) -> None:
    refused(RUN_COMMANDS[command][0]("notes.txt"), r"is a file")


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("command", list(RUN_COMMANDS))
def test_current_folder_is_never_replaced(ws: Path, command: str, overwrite: list[str]) -> None:
    make = RUN_COMMANDS[command][0]
    args = make(".") + (overwrite if command != "demo" else [])
    refused(args, r"current folder")


@pytest.mark.parametrize("command", [c for c in RUN_COMMANDS if c not in ("demo", "review export")])
def test_own_input_is_never_replaced(ws: Path, command: str) -> None:
    """--out naming the input, or the folder holding it, is refused even with --overwrite."""
    make = RUN_COMMANDS[command][0]
    line = make("OUT")
    data = next(a for a in line if a.endswith(".csv"))
    refused(make(data) + ["--overwrite"], r"is the input|is a file")
    sub = Path("inputs")
    sub.mkdir()
    (sub / data).write_bytes(Path(data).read_bytes())
    moved = [str(sub / a) if a == data else a for a in make(str(sub))]
    refused(moved + ["--overwrite"], r"holds the input")


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only /sys (Linux)")
@pytest.mark.parametrize("command", [c for c in RUN_COMMANDS if c != "review export"])
def test_unwritable_out_is_refused_up_front(ws: Path, command: str) -> None:
    refused(RUN_COMMANDS[command][0]("/sys/truelabel-out"), r"cannot write in /sys", code=2)


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root ignores folder permissions"
)
def test_read_only_folder_is_refused_up_front(ws: Path) -> None:
    ro = ws / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        refused(RUN_COMMANDS["audit"][0]("ro/run"), r"cannot write in")
    finally:
        ro.chmod(0o755)


def test_same_kind_is_replaced_and_overwrite_replaces_another(ws: Path) -> None:
    """The accepted cases: a previous run of the same kind, an empty folder, --overwrite."""
    make = RUN_COMMANDS["audit"][0]
    assert invoke(make("audit_run")).exit_code == 0
    assert json.loads((ws / "audit_run" / "run.json").read_text())["kind"] == "audit"
    (ws / "empty").mkdir()
    assert invoke(make("empty")).exit_code == 0
    r = invoke(make("agg_run") + ["--overwrite"])
    assert r.exit_code == 0, r.output
    assert json.loads((ws / "agg_run" / "run.json").read_text())["kind"] == "audit"
    assert not [p for p in ws.iterdir() if p.name.startswith(".")]  # no staging folder left


# --------------------------------------------------------------------------- file outputs
#: command writing one file -> (command line with ``O`` as --out, a good file name)
FILE_COMMANDS: dict[str, tuple[Callable[[str], list[str]], str]] = {
    "predict": (lambda o: ["predict", "model", "data.csv", "--out", o], "preds.parquet"),
    "lf analyze": (
        lambda o: ["lf", "analyze", "lfs.csv", "--columns", "lf1,lf2", "--out", o],
        "lf.csv",
    ),
    "lf apply": (
        lambda o: ["lf", "apply", "data.csv", "--lfs", "rules.py", "--out", o],
        "lf_votes.parquet",
    ),
    "taxonomy": (
        lambda o: (
            ["taxonomy", "data.csv", "--text-column", "text", "--k", "2", *TFIDF] + ["--out", o]
        ),
        "classes.yaml",
    ),
}


@pytest.mark.parametrize("command", list(FILE_COMMANDS))
def test_file_output_never_replaces_the_input(ws: Path, command: str) -> None:
    make = FILE_COMMANDS[command][0]
    data = next(a for a in make("X") if a.endswith(".csv"))
    refused(make(data) + ["--overwrite"], r"is the input|name the file with")
    assert pd.read_csv(data).shape[0] > 0  # still the CSV it was


@pytest.mark.parametrize("command", list(FILE_COMMANDS))
def test_file_output_name_must_say_its_format(ws: Path, command: str) -> None:
    refused(FILE_COMMANDS[command][0]("any.txt"), r"name the file with")


@pytest.mark.parametrize("command", list(FILE_COMMANDS))
def test_file_output_is_not_a_folder(ws: Path, command: str) -> None:
    good = FILE_COMMANDS[command][1]
    Path(good).mkdir()
    refused(FILE_COMMANDS[command][0](good), r"is a folder")


@pytest.mark.parametrize("command", list(FILE_COMMANDS))
def test_foreign_file_is_kept_unless_overwrite(ws: Path, command: str) -> None:
    make, good = FILE_COMMANDS[command]
    Path(good).write_text("a file the user wrote\n")
    refused(make(good), r"not an earlier output of this command.*--overwrite")
    r = invoke(make(good) + ["--overwrite"])
    assert r.exit_code == 0, r.output
    assert Path(good).read_bytes() != b"a file the user wrote\n"


@pytest.mark.parametrize("command", list(FILE_COMMANDS))
def test_file_output_replaces_its_own_previous_output(ws: Path, command: str) -> None:
    make, good = FILE_COMMANDS[command]
    for _ in range(2):
        r = invoke(make(good))
        assert r.exit_code == 0, r.output
    assert not [p for p in ws.iterdir() if p.name.startswith(".")]  # no temp file left


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only /sys (Linux)")
@pytest.mark.parametrize("command", list(FILE_COMMANDS))
def test_unwritable_file_output_is_refused_up_front(ws: Path, command: str) -> None:
    make, good = FILE_COMMANDS[command]
    refused(make(f"/sys/{good}"), r"cannot write in /sys", code=2)


def test_predict_parquet_from_another_command_is_kept(ws: Path) -> None:
    """A Parquet file written by someone else (no truelabel marker) is not replaced."""
    pd.DataFrame({"a": [1]}).to_parquet(ws / "theirs.parquet")
    refused(FILE_COMMANDS["predict"][0]("theirs.parquet"), r"not an earlier output")
    refused(FILE_COMMANDS["predict"][0]("mine.parquet"), r"not an earlier output")


def test_failure_while_publishing_keeps_the_previous_run(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up (or a folder made read-only) at the very end: exit 1 with one
    line, the previous run of the same kind back in place, no staging folder left."""
    import errno

    real_replace = os.replace

    def full_disk(src: object, dst: object) -> None:
        if Path(str(dst)).name == "audit_run" and ".tmp-" in str(src):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", full_disk)
    refused(RUN_COMMANDS["audit"][0]("audit_run"), r"audit_run: No space left on device", code=1)
