"""The shared table of bad inputs and the harness of the bad-input suite.

Imported by name (tests/ has no packages). :func:`build_workspace` writes, once per
session, good inputs (a small text table, votes, an estimate table, a trained model,
runs of several kinds, a user's own folder) and a table of bad files; each test copies
that workspace, changes into it and calls :func:`refused`, which runs one command
through typer's ``CliRunner`` and asserts what issue 14 asks of every refusal:

- a non-zero exit (2 for a usage/input problem, 1 for a runtime one, when given);
- exactly one ``error:`` line, matching a pattern that names the problem;
- no traceback (the runner caught nothing but ``SystemExit``);
- no file changed, created or removed anywhere in the workspace (every file hashed
  before and after, hidden staging folders included).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from click.testing import CliRunner, Result

from truelabel.cli import app

runner = CliRunner()
#: the click command tree, built once: typer rebuilds it (evaluating every annotation) on
#: each ``typer.testing.CliRunner.invoke``, which costs more than most refusals here
COMMAND = typer.main.get_command(app)

#: one header with every column any command here reads
COLUMNS = ["id", "item_id", "source", "text", "label", "gold", "lf1", "lf2"]


def snapshot(root: Path, ignore: tuple[str, ...] = ()) -> dict[str, str]:
    """Every path under ``root`` (hidden ones too): sha256 of files, ``<dir>`` for folders.

    Paths under the top-level names in ``ignore`` (e.g. an LLM answer cache) are skipped.
    """
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if rel.split("/", 1)[0] in ignore:
            continue
        if p.is_symlink():
            out[rel] = f"<link {p.readlink()}>"
        elif p.is_dir():
            out[rel] = "<dir>"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _diff(before: dict[str, str], after: dict[str, str]) -> str:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return f"added {added[:8]}, removed {removed[:8]}, changed {changed[:8]}"


def invoke(args: list[Any], **kw: Any) -> Result:
    """Run ``truelabel ARGS`` in-process (as typer's CliRunner does, with the command built once)."""
    return runner.invoke(COMMAND, [str(a) for a in args], prog_name="truelabel", **kw)


def refused(
    args: list[Any],
    expect: str,
    *,
    root: Path | None = None,
    code: int | None = None,
    ignore: tuple[str, ...] = (),
    **kw: Any,
) -> Result:
    """Run a command that must refuse; assert the four properties of a clean refusal.

    Parameters
    ----------
    args : list
        The command line after ``truelabel``.
    expect : str
        Regex (case-insensitive) the single ``error:`` line must match.
    root : Path, optional
        Folder whose content must be unchanged (default: the current folder).
    code : int, optional
        The exact exit status wanted (2 = usage/input, 1 = runtime).
    ignore : tuple of str
        Top-level names under ``root`` a refusal may change (a cache that keeps paid
        answers for the next run).
    """
    root = Path.cwd() if root is None else root
    before = snapshot(root, ignore)
    r = invoke(args, **kw)
    after = snapshot(root, ignore)
    shown = f"truelabel {' '.join(map(str, args))}\n{r.output}"
    assert r.exit_code != 0, f"exit 0 on bad input:\n{shown}"
    assert r.exception is None or isinstance(r.exception, SystemExit), (
        f"uncaught {type(r.exception).__name__}: {r.exception}\n{shown}"
    )
    assert "Traceback" not in r.output, shown
    errors = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, f"want exactly one 'error:' line:\n{shown}"
    assert re.search(expect, errors[0], re.IGNORECASE), f"{expect!r} not in:\n{errors[0]}"
    if code is not None:
        assert r.exit_code == code, f"exit {r.exit_code}, want {code}:\n{shown}"
    assert after == before, f"files changed: {_diff(before, after)}\n{shown}"
    return r


# --------------------------------------------------------------------------- the workspace
def _text_table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Two well-separated classes of short texts (a model learns them from 60 rows)."""
    rng = np.random.default_rng(seed)
    words = {"neg": ["bad", "awful", "poor", "hate"], "pos": ["good", "great", "nice", "love"]}
    y = np.array(["neg", "pos"])[np.arange(n) % 2]
    texts = [" ".join(rng.choice(words[c], 3)) + " movie" for c in y]
    return pd.DataFrame({"id": [f"d{i}" for i in range(n)], "text": texts, "label": y})


def build_workspace(base: Path) -> Path:
    """Write the good inputs, prior runs and the table of bad files into ``base``."""
    from truelabel.io import RunDir

    base.mkdir(parents=True, exist_ok=True)
    df = _text_table()
    df.to_csv(base / "data.csv", index=False)
    df.assign(lf1=np.where(df["label"] == "pos", 1, -1), lf2=-1).to_csv(
        base / "lfs.csv", index=False
    )
    rng = np.random.default_rng(1)
    votes = pd.DataFrame(
        [(i, f"w{s}", lab) for i, lab in zip(df["id"], df["label"], strict=True) for s in range(3)],
        columns=["item_id", "source", "label"],
    )
    votes.to_csv(base / "votes.csv", index=False)
    pred = rng.normal(3.0, 1.0, 200)
    gold = np.full(200, np.nan)
    gold[:40] = pred[:40] + rng.normal(0.2, 0.5, 40)
    pd.DataFrame({"item_id": range(200), "label": pred, "gold": gold}).to_csv(
        base / "est.csv", index=False
    )
    r = invoke(
        ["train", base / "data.csv", "--out", base / "model", "--text-column", "text"]
        + ["--label-column", "label", "--featurizer", "tfidf"]
    )
    assert r.exit_code == 0, r.output
    probs = np.where((df["label"] == "pos").to_numpy()[:, None], [0.2, 0.8], [0.8, 0.2])
    np.save(base / "probs.npy", probs.astype(np.float32))
    r = invoke(
        ["audit", base / "data.csv", "--label-column", "label", "--id-column", "id"]
        + ["--pred-probs", base / "probs.npy", "--out", base / "audit_run"]
    )
    assert r.exit_code == 0, r.output
    df.rename(columns={"id": "item_id"}).to_csv(base / "texts.csv", index=False)
    r = invoke(
        ["review", "import", base / "audit_run", "--project", "p", "--db", base / "review.db"]
        + ["--texts", base / "texts.csv"]
    )
    assert r.exit_code == 0, r.output
    with RunDir(base / "agg_run", kind="aggregate") as run:
        run.write_json("summary.json", {"n": 0})
    (base / "user_dir").mkdir()
    (base / "user_dir" / "thesis.tex").write_text("months of work\n")
    (base / "rules.py").write_text(
        "from truelabel.sources import keyword_lf\nCLASSES = ['neg', 'pos']\n"
        "good = keyword_lf(['good', 'great'], 'pos')\nbad = keyword_lf(['bad', 'awful'], 'neg')\n"
    )
    (base / "notes.txt").write_text("my notes\n")
    (base / "mine.parquet").write_bytes(b"not a parquet file, but mine")
    (base / "notdb.db").write_text("this is not a database\n")
    _bad_files(base, df)
    return base


def _bad_files(base: Path, df: pd.DataFrame) -> None:
    """The shared table of bad files (see BAD_FILES for what each one is)."""
    header = ",".join(COLUMNS)
    row = "d0,0,w0,good movie,pos,1,1,-1"
    (base / "empty.csv").write_bytes(b"")
    (base / "header_only.csv").write_text(header + "\n")
    (base / "semicolon.csv").write_text(
        header.replace(",", ";") + "\n" + row.replace(",", ";") + "\n"
    )
    latin1 = header + "\n" + row.replace("good", "café") + "\n"
    (base / "latin1.csv").write_bytes(latin1.encode("latin-1"))
    (base / "unterminated.csv").write_text(
        header + '\n"d0,0,w0,' + "x" * 100_000 + "\n" + row + "\n"
    )
    rng = np.random.default_rng(7)
    (base / "garbage.csv").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (base / "data.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    renamed = pd.read_csv(base / "data.csv").rename(columns=str.upper)
    renamed.assign(ITEM_ID=0, SOURCE="w0", GOLD=1.0).to_csv(base / "renamed.csv", index=False)
    (base / "folder.csv").mkdir()
    (base / "folder.csv" / "part.txt").write_text("x\n")


@dataclass(frozen=True)
class BadFile:
    """One entry of the shared table: a file name and what the error line must say."""

    name: str
    expect: str


#: The shared table of bad table files, plugged into every command's main input.
BAD_FILES = {
    "missing file": BadFile("nope.csv", r"no such file"),
    "a folder": BadFile("folder.csv", r"directory|folder|column|no rows|not found|file format"),
    "empty file": BadFile("empty.csv", r"empty|no rows|no columns"),
    "header only": BadFile("header_only.csv", r"no rows"),
    "wrong delimiter": BadFile("semicolon.csv", r"column"),
    "not UTF-8": BadFile("latin1.csv", r"UTF-8"),
    "huge unterminated cell": BadFile("unterminated.csv", r"cannot read|EOF|quot"),
    "binary garbage": BadFile("garbage.csv", r"UTF-8|cannot read"),
    "unknown format": BadFile("data.xlsx", r"file format"),
    "missing columns": BadFile("renamed.csv", r"column"),
}


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def copy_workspace(base: Path, dest: Path) -> Path:
    """A private copy of the session workspace (tests may not share writable state)."""
    shutil.copytree(base, dest, symlinks=True)
    return dest
