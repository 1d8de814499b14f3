"""Every command on the shared table of bad table files (issue 14, part 5).

Each command's main table input is replaced by each bad file of ``BAD_FILES``; the command
must refuse with one line naming the problem, a non-zero exit, no traceback and no file
changed (see ``cli_helpers.refused``). A control run on the good inputs shows that the
same command line works when only the input is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import BAD_FILES, invoke, refused

TFIDF = ["--featurizer", "tfidf"]

#: command -> its command line with ``D`` (the table under test) plugged in
COMMANDS: dict[str, Callable[[str], list[str]]] = {
    "audit": lambda d: (
        ["audit", d, "--out", "out", "--text-column", "text"] + ["--label-column", "label", *TFIDF]
    ),
    "audit --votes": lambda d: (
        ["audit", "data.csv", "--votes", d, "--out", "out"]
        + ["--text-column", "text", "--id-column", "id", *TFIDF]
    ),
    "train": lambda d: (
        ["train", d, "--out", "out", "--text-column", "text"] + ["--label-column", "label", *TFIDF]
    ),
    "predict": lambda d: ["predict", "model", d, "--out", "preds.parquet"],
    "aggregate": lambda d: ["aggregate", d, "--out", "out"],
    "aggregate --gold": lambda d: ["aggregate", "votes.csv", "--gold", d, "--out", "out"],
    "label": lambda d: (
        ["label", d, "--text-column", "text", "--classes", "neg,pos"] + ["--out", "out", *TFIDF]
    ),
    "label --llm": lambda d: (
        ["label", d, "--text-column", "text", "--classes", "neg,pos"]
        + ["--out", "out", "--llm-base-url", "http://127.0.0.1:9/v1", "--llm-cache", "llm.sqlite"]
    ),
    "lf analyze": lambda d: ["lf", "analyze", d, "--columns", "lf1,lf2", "--out", "lf.csv"],
    "lf apply": lambda d: ["lf", "apply", d, "--lfs", "rules.py", "--out", "votes.parquet"],
    "aggregate --lfs": lambda d: ["aggregate", d, "--lfs", "rules.py", "--out", "out"],
    "taxonomy": lambda d: ["taxonomy", d, "--text-column", "text", "--out", "classes.yaml"] + TFIDF,
    "estimate": lambda d: ["estimate", d, "--out", "out"],
    "plan": lambda d: ["plan", d, "--target-width", "0.1"],
    "plan --select": lambda d: ["plan", d, "--select", "5", "--out", "out"],
    "review import --texts": lambda d: (
        ["review", "import", "audit_run", "--project", "p"] + ["--db", "review.db", "--texts", d]
    ),
    "scale audit": lambda d: (
        ["scale", "audit", d, "--label-column", "label"]
        + ["--text-column", "text", "--out", "out", *TFIDF]
    ),
    "scale aggregate": lambda d: ["scale", "aggregate", d, "--out", "out"],
    "scale predict": lambda d: ["scale", "predict", "model", d, "--out", "out"],
}

#: the good input of each command (the control run)
GOOD = {
    "audit --votes": "votes.csv",
    "aggregate": "votes.csv",
    "aggregate --gold": "votes.csv",
    "lf analyze": "lfs.csv",
    "estimate": "est.csv",
    "plan": "est.csv",
    "plan --select": "est.csv",
    "scale aggregate": "votes.csv",
}

#: (command, bad file) pairs whose input is not a table read by the command
SKIP = {
    # review import reads --texts only for runs without texts; an audit run of this
    # workspace carries none, so the table is read: no skip needed
}


@pytest.mark.parametrize("case", list(BAD_FILES))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_table_is_refused(ws: Path, command: str, case: str) -> None:
    bad = BAD_FILES[case]
    refused(COMMANDS[command](bad.name), bad.expect)


@pytest.mark.parametrize(
    "command",
    [c for c in COMMANDS if c not in ("label --llm", "review import --texts")],
)
def test_good_table_is_accepted(ws: Path, command: str) -> None:
    """Control: the same command line with the good input runs (so refusals mean something)."""
    r = invoke(COMMANDS[command](GOOD.get(command, "data.csv")))
    assert r.exit_code == 0, r.output
