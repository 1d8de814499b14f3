"""Readable files with values no command can answer from (issue 14, parts 2 and 3).

Each case writes one bad input into the test's workspace and runs the commands that read
it; ``refused`` checks one named error line, a non-zero exit, no traceback and no file
changed.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import invoke, refused

TFIDF = ["--featurizer", "tfidf"]
AUDIT = ["audit", "data.csv", "--label-column", "label", "--out", "out"]
TRAIN = ["train", "--text-column", "text", "--label-column", "label", *TFIDF, "--out", "out"]
SCALE = ["scale", "audit", "--label-column", "label", "--text-column", "text", *TFIDF]


def _data(ws: Path, name: str, **changes: object) -> str:
    df = pd.read_csv(ws / "data.csv")
    for col, (rows, values) in changes.items():  # type: ignore[misc]
        df.loc[rows, col] = values
    df.to_csv(ws / name, index=False)
    return name


# --------------------------------------------------------------------------- labels
def test_labels_mixing_names_and_codes_are_refused_everywhere(ws: Path) -> None:
    """One label-type rule (truelabel.io) for audit, train, aggregate, lf, scale audit."""
    bad = _data(ws, "mixed.csv", label=([3, 8], ["1", "0"]))
    rule = r"mix numbers \['1', '0'\] and names \['neg', 'pos'\] \(the numbers are on rows 3, 8\)"
    refused(
        ["audit", bad, "--label-column", "label", "--text-column", "text", *TFIDF]
        + ["--out", "out"],
        rule,
        code=2,
    )
    refused(["train", bad, *TRAIN[1:]], rule, code=2)
    refused([*SCALE, bad, "--out", "out"], r"mix numbers \['1', '0'\] and names", code=2)
    votes = pd.read_csv(ws / "votes.csv")
    votes.loc[[4], "label"] = "1"
    votes.to_csv(ws / "vmixed.csv", index=False)
    vrule = r"label column 'label' holds labels that mix numbers \['1'\] .*row 4\)"
    refused(["aggregate", "vmixed.csv", "--out", "out"], vrule, code=2)
    refused(
        ["audit", "data.csv", "--votes", "vmixed.csv", "--id-column", "id", "--text-column"]
        + ["text", *TFIDF, "--out", "out"],
        vrule,
        code=2,
    )
    lfs = pd.read_csv(ws / "lfs.csv").astype({"lf1": object})
    lfs.loc[[2], "lf1"] = "pos"
    lfs.to_csv(ws / "lfmixed.csv", index=False)
    refused(
        ["lf", "analyze", "lfmixed.csv", "--columns", "lf1,lf2"],
        r"vote columns .* mix numbers .*row 2\)",
    )


def test_single_class_is_refused(ws: Path) -> None:
    one = _data(ws, "one.csv", label=(slice(None), "pos"))
    refused(
        ["audit", one, "--label-column", "label", "--text-column", "text", *TFIDF, "--out", "out"],
        r"class",
    )
    refused(["train", one, *TRAIN[1:]], r"class")


def test_duplicate_and_empty_ids_are_refused_by_audit_and_scale_audit(ws: Path) -> None:
    dup = _data(ws, "dup.csv", id=([5], ["d1"]))
    rule = r"id column 'id' has 1 duplicate values \(e.g. 'd1' on rows 1, 5\)"
    refused(
        [
            "audit",
            dup,
            "--label-column",
            "label",
            "--id-column",
            "id",
            "--pred-probs",
            "probs.npy",
            "--out",
            "out",
        ],
        rule,
    )
    refused([*SCALE, dup, "--id-column", "id", "--out", "out"], rule, code=2)
    empty = _data(ws, "noid.csv", id=([7], [np.nan]))
    refused(
        [*SCALE, empty, "--id-column", "id", "--out", "out"],
        r"id column 'id' is empty on rows \[7\]",
    )


def test_a_text_column_empty_on_every_row_is_refused(ws: Path) -> None:
    # a few empty texts are issues (audit: ``empty_text``) or abstentions (label), not a
    # refusal (tests/audit/test_audit_empty_text.py); a column with no text at all is refused
    n = len(pd.read_csv(ws / "data.csv"))
    blank = _data(ws, "blank.csv", text=(list(range(n)), ["   "] * n))
    refused(
        [
            "audit",
            blank,
            "--label-column",
            "label",
            "--text-column",
            "text",
            *TFIDF,
            "--out",
            "out",
        ],
        r"text column 'text' is empty on every row",
    )
    refused(
        ["label", blank, "--text-column", "text", "--classes", "neg,pos", *TFIDF, "--out", "out"],
        r"empty on every row",
    )


# --------------------------------------------------------------------------- probabilities
@pytest.mark.parametrize(
    ("case", "make", "expect"),
    [
        ("NaN", lambda p: p.__setitem__((3, 0), np.nan), r"row 3 contains NaN or infinite"),
        ("inf", lambda p: p.__setitem__((4, 1), np.inf), r"row 4 contains NaN or infinite"),
        ("negative", lambda p: p.__setitem__((5, 0), -0.2), r"row 5 contains negative"),
        ("not summing to 1", lambda p: p.__setitem__((6, 0), 0.5), r"row 6 sums to"),
    ],
)
def test_bad_probabilities_are_refused(ws: Path, case: str, make: object, expect: str) -> None:
    p = np.load(ws / "probs.npy").astype(np.float64)
    make(p)  # type: ignore[operator]
    np.save(ws / "bad.npy", p)
    refused([*AUDIT, "--pred-probs", "bad.npy"], expect, code=2)
    refused(
        [*SCALE[:4], "data.csv", "--pred-probs", "bad.npy", "--out", "out"],
        r"NaN|negative|sums|row",
        code=2,
    )


@pytest.mark.parametrize(
    ("shape", "expect"),
    [((59, 2), r"59 rows but the data has 60"), ((60, 3), r"3 columns|shape"), ((60,), r"2-D")],
)
def test_probabilities_of_the_wrong_shape_are_refused(
    ws: Path, shape: tuple[int, ...], expect: str
) -> None:
    arr = np.full(shape, 1.0 / (shape[1] if len(shape) > 1 else 1), dtype=np.float32)
    np.save(ws / "bad.npy", arr)
    refused([*AUDIT, "--pred-probs", "bad.npy"], expect, code=2)
    refused(
        [*SCALE[:4], "data.csv", "--pred-probs", "bad.npy", "--out", "out"], r"shape|rows", code=2
    )


def test_vectors_file_of_the_wrong_shape_is_refused(ws: Path) -> None:
    np.save(ws / "vec.npy", np.zeros((10, 4), dtype=np.float32))
    refused(
        [*AUDIT, "--featurizer", "vectors", "--vectors-file", "vec.npy"],
        r"does not match the 60 rows",
    )
    np.save(ws / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    refused([*AUDIT, "--pred-probs", "pickled.npy"], r"not a readable .npy")


# --------------------------------------------------------------------------- estimate / plan
def _est(ws: Path, gold_rows: dict[int, object], name: str = "e.csv") -> str:
    df = pd.read_csv(ws / "est.csv")
    df["gold"] = pd.Series([None] * len(df), dtype=object)
    for i, v in gold_rows.items():
        df.loc[i, "gold"] = v
    df.to_csv(ws / name, index=False)
    return name


def test_one_gold_row_gives_no_interval(ws: Path) -> None:
    """Issue 14: one gold row printed ``95% CI [3.338, 3.338]``; plan a width of 1e-14."""
    one = _est(ws, {0: 3.2})
    need = r"only 1 gold row: an interval needs at least 2.*plan --select 30"
    refused(["estimate", one, "--out", "out"], need, code=2)
    refused(["plan", one, "--target-width", "0.1"], need, code=2)
    refused(["estimate", _est(ws, {}, "none.csv"), "--out", "out"], r"no gold rows")


def test_regression_needs_one_more_gold_row_than_parameters(ws: Path) -> None:
    df = pd.read_csv(ws / "est.csv")
    df["x"] = np.arange(len(df)) % 7
    df.loc[2:, "gold"] = np.nan
    df.to_csv(ws / "reg.csv", index=False)
    refused(
        ["estimate", "reg.csv", "--formula", "gold ~ x", "--outcome", "ols", "--out", "out"],
        r"2 gold rows but the model has 2 parameters.*at least 3",
    )


def test_gold_column_mixing_numbers_and_words_names_the_rows(ws: Path) -> None:
    """Issue 14: a few words in a numeric gold column switched estimate to hundreds of
    float "classes"."""
    gold = {i: f"{3 + i / 10:.2f}" for i in range(40)}
    gold[3], gold[7] = "unsure", "??"
    bad = _est(ws, gold)
    refused(
        ["estimate", bad, "--out", "out"],
        r"gold column 'gold' holds labels that mix numbers .* \(the names are on rows 3, 7\)",
        code=2,
    )
    refused(["plan", bad, "--target-width", "0.1"], r"rows 3, 7")


def test_class_shares_of_fractional_gold_are_refused(ws: Path) -> None:
    refused(
        ["estimate", "est.csv", "--outcome", "proportions", "--out", "out"],
        r"fractional numbers .*--outcome mean",
    )


def test_sampling_probabilities_out_of_range_are_refused(ws: Path) -> None:
    df = pd.read_csv(ws / "est.csv")
    df["pi"] = 0.2
    df.loc[5, "pi"] = 1.5
    df.to_csv(ws / "pi.csv", index=False)
    refused(
        ["estimate", "pi.csv", "--sampling-prob-column", "pi", "--out", "out"],
        r"sampling_prob must be in \(0, 1\]",
    )


# --------------------------------------------------------------------------- models
def test_damaged_model_folders_are_refused(ws: Path) -> None:
    weights = ws / "model" / "weights.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[:100])
    for cmd in (
        ["predict", "model", "data.csv", "--out", "p.parquet"],
        ["scale", "predict", "model", "data.csv", "--out", "out"],
        ["serve-model", "model", "--port", "8765"],
    ):
        refused(cmd, r"weights.safetensors is not a readable weights file", code=2)
    weights.write_bytes(good)
    meta = json.loads((ws / "model" / "model.json").read_text())
    meta["classes"] = ["only-one"]
    (ws / "model" / "model.json").write_text(json.dumps(meta))
    refused(["predict", "model", "data.csv", "--out", "p.parquet"], r"does not match the 1 classes")
    (ws / "model" / "model.json").write_text("{")
    refused(["predict", "model", "data.csv", "--out", "p.parquet"], r"model.json is not valid JSON")
    refused(
        ["predict", "user_dir", "data.csv", "--out", "p.parquet"],
        r"not a truelabel model directory",
    )


def test_serve_model_port_is_checked_before_loading(ws: Path) -> None:
    r = invoke(["serve-model", "model", "--port", "99999"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "65535" in r.output  # typer's usage error: 1 <= port <= 65535
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        refused(
            ["serve-model", "model", "--port", port],
            rf"cannot listen on 127.0.0.1:{port} \(Address already in use\)",
            code=2,
        )
    refused(
        ["serve-model", "model", "--host", "no-such-host.invalid"],
        r"cannot listen on no-such-host.invalid",
    )


# --------------------------------------------------------------------------- labeling functions
def test_labeling_function_that_raises_names_it(ws: Path) -> None:
    (ws / "rules.py").write_text(
        "from truelabel.sources import labeling_function\nCLASSES = ['neg', 'pos']\n"
        "@labeling_function\ndef lf_typo(df):\n    return df['txet'].str.contains('good')\n"
    )
    refused(
        ["lf", "analyze", "data.csv", "--lfs", "rules.py"],
        r"labeling function 'lf_typo' raised KeyError: 'txet'",
        code=2,
    )
    (ws / "syntax.py").write_text("def broken(:\n")
    refused(["lf", "analyze", "data.csv", "--lfs", "syntax.py"], r"importing it raised SyntaxError")


@pytest.mark.parametrize(
    ("value", "expect"),
    [
        ("x", r"record '3' has weak label 'x'"),
        (-5, r"weak label -5"),
        (1.5, r"weak label 1.5"),
        (9, r"record '3' has weak label 9 but there are 2 classes"),
    ],
)
def test_bad_wrench_weak_label_names_the_record(ws: Path, value: object, expect: str) -> None:
    recs = {
        str(i): {"data": {"text": f"t{i}"}, "label": i % 2, "weak_labels": [i % 2, -1]}
        for i in range(10)
    }
    recs["3"]["weak_labels"][0] = value
    (ws / "split.json").write_text(json.dumps(recs))
    (ws / "label.json").write_text(json.dumps({"0": "neg", "1": "pos"}))
    refused(["lf", "analyze", "split.json"], expect, code=2)


# --------------------------------------------------------------------------- review database
@pytest.mark.parametrize(
    "args",
    [
        ["review", "import", "audit_run", "--project", "p"],
        ["review", "export", "--project", "p", "--out", "out"],
        ["users", "add", "bob"],
        ["users", "list"],
        ["users", "deactivate", "bob"],
        ["users", "activate", "bob"],
        ["users", "reset-password", "bob"],
        ["users", "revoke", "bob"],
        ["review", "members", "--project", "p"],
    ],
)
@pytest.mark.parametrize("db", ["notdb.db", "data.csv"])
def test_a_file_that_is_not_a_database_is_refused(ws: Path, args: list[str], db: str) -> None:
    refused(
        [*args, "--db", db],
        r"is not a database truelabel can use",
        code=2,
        env={"TRUELABEL_PASSWORD": "correct horse battery"},
    )


def test_review_export_never_creates_a_database(ws: Path) -> None:
    refused(
        ["review", "export", "--project", "p", "--db", "nope.db", "--out", "out"],
        r"--db nope.db: no such database file",
        code=2,
    )
    refused(
        ["review", "export", "--project", "nope", "--db", "review.db", "--out", "out"],
        r"project 'nope' does not exist",
        ignore=("review.db-wal", "review.db-shm"),  # SQLite's own journal files
    )


def test_review_import_of_something_that_is_not_a_run(ws: Path) -> None:
    refused(
        ["review", "import", "user_dir", "--project", "p", "--db", "r.db"],
        r"not a truelabel run folder",
    )
    refused(
        ["review", "import", "model", "--project", "p", "--db", "r.db"],
        r"kind 'model' cannot be imported",
    )


# --------------------------------------------------------------------------- classes and options
def test_label_class_list_problems(ws: Path) -> None:
    (ws / "bad.yaml").write_text("classes: [unclosed\n")
    label = ["label", "data.csv", "--text-column", "text", "--out", "out", *TFIDF]
    refused(label, r"--classes")
    for classes_file in ("nope.yaml", "bad.yaml"):
        refused([*label, "--classes-file", classes_file], classes_file.replace(".", r"\."))


def test_taxonomy_bad_k(ws: Path) -> None:
    refused(
        ["taxonomy", "data.csv", "--text-column", "text", "--k", "many", "--out", "c.yaml"],
        r"--k must be",
    )


def test_duplicate_ids_in_predict_and_in_a_gold_file(ws: Path) -> None:
    dup = _data(ws, "dup.csv", id=([5], ["d1"]))
    refused(
        ["predict", "model", dup, "--id-column", "id", "--out", "p.parquet"],
        r"duplicate values \(e.g. 'd1'",
    )
    gold = pd.DataFrame({"item_id": [1, 2, 2], "label": [3.0, 3.5, 4.0]})
    gold.to_csv(ws / "gold.csv", index=False)
    refused(
        ["estimate", "est.csv", "--gold", "gold.csv", "--out", "out"],
        r"item 2 has more than one gold row",
    )
