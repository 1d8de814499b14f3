"""The end-to-end audit API and the `truelabel audit` CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _shared import shared_path
from truelabel import InputError, audit
from truelabel.cli import app

runner = CliRunner()


def _toy(
    n: int = 240, k: int = 3, flip: float = 0.1, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Three well-separated blobs as vector columns; `flip` of the labels changed."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n // k)
    centers = np.eye(k, 8) * 6
    X = centers[y] + rng.normal(0, 1, (len(y), 8))
    noisy = y.copy()
    flipped = rng.random(len(y)) < flip
    noisy[flipped] = (y[flipped] + 1) % k
    names = np.array(["ant", "bee", "cat"])
    df = pd.DataFrame(
        {
            "id": [f"i{i}" for i in range(len(y))],
            "v": list(X.astype(np.float32)),
            "label": names[noisy],
        }
    )
    return df, flipped


def test_finds_injected_flips_from_vectors() -> None:
    df, flipped = _toy()
    res = audit(df, label="label", id="id", vectors="v", seed=0)
    flagged = res.issues.set_index("item_id").loc[df["id"], "is_label_issue"].to_numpy()
    tp = (flagged & flipped).sum()
    assert tp / flipped.sum() >= 0.85  # separable blobs: measured 31/35 = 0.89 found
    assert tp / max(flagged.sum(), 1) >= 0.8
    top = res.issues.head(int(flipped.sum()))["item_id"]
    assert top.isin(df["id"][flipped]).mean() >= 0.8  # the lowest label_quality rows are flips
    s = res.summary
    assert s["n"] == 240 and s["classes"] == ["ant", "bee", "cat"]
    assert 0.03 < s["noise_rate"] < 0.2
    nm = np.array(s["noise_matrix"]["values"])
    np.testing.assert_allclose(nm.sum(axis=0), 1.0, atol=1e-3)


def test_row_permutation_invariance() -> None:
    df, _ = _toy()
    a = audit(df, label="label", id="id", vectors="v", seed=0)
    perm = np.random.default_rng(5).permutation(len(df))
    b = audit(
        df.iloc[perm].reset_index(drop=True),
        label="label",
        id="id",
        vectors="v",
        pred_probs=a.pred_probs[perm],
        seed=0,
    )
    a2 = audit(df, label="label", id="id", vectors="v", pred_probs=a.pred_probs, seed=0)
    left = a2.issues.set_index("item_id").sort_index()
    right = b.issues.set_index("item_id").sort_index()
    pd.testing.assert_series_equal(left["is_label_issue"], right["is_label_issue"])
    np.testing.assert_allclose(left["label_quality"], right["label_quality"], atol=1e-6)


def test_deterministic_with_seed() -> None:
    df, _ = _toy()
    a = audit(df, label="label", vectors="v", seed=3).issues
    b = audit(df, label="label", vectors="v", seed=3).issues
    pd.testing.assert_frame_equal(a.drop(columns=["neighbors"]), b.drop(columns=["neighbors"]))


def test_pred_probs_must_match_rows(tmp_path: Path) -> None:
    df, _ = _toy()
    np.save(tmp_path / "p.npy", np.full((10, 3), 1 / 3, dtype=np.float32))
    with pytest.raises(ValueError, match="has 10 rows but the data has 240 items"):
        audit(df, label="label", pred_probs=tmp_path / "p.npy")


def _write(tmp_path: Path, df: pd.DataFrame) -> Path:
    p = tmp_path / "data.parquet"
    df.to_parquet(p)
    return p


def test_cli_writes_the_run_folder(tmp_path: Path) -> None:
    df, _ = _toy()
    data = _write(tmp_path, df)
    out = tmp_path / "run"
    r = runner.invoke(
        app,
        [
            "audit",
            str(data),
            "--label-column",
            "label",
            "--id-column",
            "id",
            "--vectors-column",
            "v",
            "--featurizer",
            "vectors",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    issues = pd.read_parquet(out / "issues.parquet")
    for col in (
        "item_id",
        "given_label",
        "suggested_label",
        "label_quality",
        "is_label_issue",
        "is_outlier",
        "duplicate_group",
    ):
        assert col in issues.columns
    assert issues["label_quality"].is_monotonic_increasing
    summary = json.loads((out / "summary.json").read_text())
    assert {
        "n",
        "classes",
        "noise_rate",
        "noise_rate_per_class",
        "noise_matrix",
        "counts",
        "timings_s",
        "versions",
    } <= set(summary)
    html = (out / "report.html").read_text()
    assert "<img" in html and "Top issues" in html


def test_report_escapes_text(tmp_path: Path) -> None:
    n = 60
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], n // 2)
    X = np.eye(2, 4)[y] * 5 + rng.normal(0, 1, (n, 4))
    y[0] = 1  # one flip, which will be among the top issues
    df = pd.DataFrame(
        {"text": [f"<script>alert({i})</script>" for i in range(n)], "v": list(X), "label": y}
    )
    res = audit(df, text="text", label="label", vectors="v")
    res.save(tmp_path / "run")
    html = (tmp_path / "run" / "report.html").read_text()
    assert "<script>alert(0)</script>" not in html
    assert "&lt;script&gt;alert(0)&lt;/script&gt;" in html


BAD_CASES = [
    (
        "missing file",
        ["audit", "nope.csv", "--text-column", "text", "--label-column", "label"],
        "no such file",
    ),
    (
        "missing column",
        ["audit", "{data}", "--text-column", "body", "--label-column", "label"],
        "no column 'body'",
    ),
    ("no text column", ["audit", "{data}", "--label-column", "label"], "--text-column"),
    (
        "single class",
        [
            "audit",
            "{one}",
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--featurizer",
            "tfidf",
        ],
        "single class",
    ),
    (
        "tiny class",
        [
            "audit",
            "{tiny}",
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--featurizer",
            "tfidf",
        ],
        "fewer items than --folds 5",
    ),
    (
        "missing labels",
        ["audit", "{holes}", "--text-column", "text", "--label-column", "label"],
        "--drop-missing",
    ),
]


@pytest.mark.parametrize(("case", "args", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_cli_bad_input_exits_nonzero_and_writes_nothing(
    tmp_path: Path, case: str, args: list[str], message: str
) -> None:
    df = pd.DataFrame({"text": [f"text number {i}" for i in range(20)], "label": ["x", "y"] * 10})
    files = {
        "data": df,
        "one": df.assign(label="x"),
        "tiny": df.assign(label=["x"] * 18 + ["rare"] * 2),
        "holes": df.assign(label=["x", None] * 10),
    }
    paths = {}
    for name, frame in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    out = tmp_path / "run"
    argv = [a.format(**paths) for a in args] + ["--out", str(out)]
    r = runner.invoke(app, argv)
    assert r.exit_code == 2, r.output
    assert message in r.output.replace("\n", " ")
    assert "Traceback" not in r.output
    assert not out.exists()


def test_cli_refuses_foreign_out(tmp_path: Path) -> None:
    df, _ = _toy()
    data = _write(tmp_path, df)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    r = runner.invoke(
        app,
        ["audit", str(data), "--label-column", "label", "--vectors-column", "v", "--out", str(out)],
    )
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert (out / "notes.txt").read_text() == "keep me"


def test_cli_bad_pred_probs(tmp_path: Path) -> None:
    df, _ = _toy()
    data = _write(tmp_path, df)
    cases = {
        "nan": np.where(np.eye(240, 3) > 0, np.nan, 1 / 3),
        "negative": np.tile([1.5, -0.5, 0.0], (240, 1)),
        "sum": np.full((240, 3), 0.5),
        "shape": np.full((240, 4), 0.25),
    }
    expected = {"nan": "NaN", "negative": "negative", "sum": "sums to 1.5000", "shape": "4 columns"}
    for name, arr in cases.items():
        f = tmp_path / f"{name}.npy"
        np.save(f, arr.astype(np.float32))
        r = runner.invoke(
            app,
            [
                "audit",
                str(data),
                "--label-column",
                "label",
                "--pred-probs",
                str(f),
                "--out",
                str(tmp_path / f"run-{name}"),
            ],
        )
        assert r.exit_code == 2, (name, r.output)
        assert expected[name] in r.output.replace("\n", " "), (name, r.output)
        assert not (tmp_path / f"run-{name}").exists()


@pytest.mark.shared
def test_end_to_end_on_real_text_finds_most_injected_errors() -> None:
    """Banking77 train, the 10 largest intents, 10% of labels flipped, tfidf features."""
    df = pd.read_csv(shared_path("text", "banking77", "train.csv"))
    top = df["category"].value_counts().index[:10]
    df = df[df["category"].isin(top)].reset_index(drop=True)
    rng = np.random.default_rng(0)
    flip = rng.random(len(df)) < 0.10
    classes = np.array(sorted(top))
    codes = np.searchsorted(classes, df["category"].to_numpy())
    codes[flip] = (codes[flip] + rng.integers(1, len(classes), flip.sum())) % len(classes)
    df["label"] = classes[codes]
    res = audit(df, text="text", label="label", featurizer="tfidf", seed=0)
    flagged = res.issues.sort_values("item_id")["is_label_issue"].to_numpy()
    recall = (flagged & flip).sum() / flip.sum()
    precision = (flagged & flip).sum() / flagged.sum()
    # thresholds just under the numbers measured on 2026-11-23 (see the message on failure)
    assert recall >= 0.6 and precision >= 0.5, (recall, precision)


def test_votes_audit_uses_consensus_and_flags_spammer(tmp_path: Path) -> None:
    """Three good workers and one who answers at random: the consensus is audited, the
    random worker is flagged as a suspect source."""
    df, _ = _toy(flip=0.0)
    rng = np.random.default_rng(1)
    truth = df["label"].to_numpy()
    rows = []
    names = np.array(["ant", "bee", "cat"])
    for w in ("w1", "w2", "w3"):
        lab = truth.copy()
        wrong = rng.random(len(lab)) < 0.15
        lab[wrong] = names[rng.integers(0, 3, wrong.sum())]
        rows += [(i, w, lab_i) for i, lab_i in zip(df["id"], lab, strict=True)]
    rows += [(i, "spammer", names[rng.integers(0, 3)]) for i in df["id"]]
    votes = pd.DataFrame(rows, columns=["item", "worker", "answer"])
    vpath = tmp_path / "votes.csv"
    votes.to_csv(vpath, index=False)
    data = _write(tmp_path, df.drop(columns=["label"]))
    out = tmp_path / "run"
    r = runner.invoke(
        app,
        [
            "audit",
            str(data),
            "--id-column",
            "id",
            "--vectors-column",
            "v",
            "--votes",
            str(vpath),
            "--vote-item-column",
            "item",
            "--vote-source-column",
            "worker",
            "--vote-label-column",
            "answer",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    issues = pd.read_parquet(out / "issues.parquet")
    assert {"consensus_label", "consensus_confidence", "n_votes"} <= set(issues.columns)
    assert (issues["n_votes"] == 4).all()
    agree = (
        issues.set_index("item_id").loc[df["id"], "consensus_label"].to_numpy() == truth
    ).mean()
    assert agree > 0.95
    sources = pd.read_parquet(out / "sources.parquet").set_index("source")
    assert (
        bool(sources.loc["spammer", "is_suspect"])
        and not sources.loc[["w1", "w2", "w3"], "is_suspect"].any()
    )
    assert json.loads((out / "summary.json").read_text())["sources"]["suspect_sources"] == [
        "spammer"
    ]


def test_reported_probabilities_are_calibrated_unless_turned_off() -> None:
    df, _ = _toy()
    on = audit(df, label="label", vectors="v", seed=0)
    off = audit(df, label="label", vectors="v", seed=0, calibrate=False)
    assert on.summary["settings"]["calibrated"] and on.summary["temperature"] > 0
    assert not off.summary["settings"]["calibrated"] and off.summary["temperature"] is None
    # same flags and ranking; only the reported probabilities change (argmax kept)
    pd.testing.assert_series_equal(on.issues["is_label_issue"], off.issues["is_label_issue"])
    np.testing.assert_array_equal(on.pred_probs.argmax(1), off.pred_probs.argmax(1))
    np.testing.assert_allclose(on.pred_probs.sum(1), 1, atol=1e-5)


def test_cli_engine_dask_matches_memory_flags(tmp_path: Path) -> None:
    """`truelabel audit --engine dask` (a LocalCluster) flags the same items as in memory."""
    df, _ = _toy()
    mem = audit(df, label="label", vectors="v", seed=0, calibrate=False)
    probs = tmp_path / "p.npy"
    np.save(probs, mem.pred_probs)
    data = tmp_path / "data.parquet"
    df[["label"]].to_parquet(data)
    out = tmp_path / "run"
    r = runner.invoke(
        app,
        [
            "audit",
            str(data),
            "--label-column",
            "label",
            "--pred-probs",
            str(probs),
            "--engine",
            "dask",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    flagged = set(mem.issues.loc[mem.issues["is_label_issue"], "item_id"])
    assert json.loads((out / "summary.json").read_text())["counts"]["label_error"] == len(flagged)


def _int_votes(df: pd.DataFrame, truth: np.ndarray, seed: int = 2) -> pd.DataFrame:
    """Three workers voting integer class codes (85 % right)."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in ("w1", "w2", "w3"):
        lab = np.where(rng.random(len(truth)) < 0.85, truth, rng.integers(0, 3, len(truth)))
        rows += [(i, w, int(x)) for i, x in zip(df["id"], lab, strict=True)]
    return pd.DataFrame(rows, columns=["item_id", "source", "label"])


def test_votes_with_integer_labels_are_audited() -> None:
    """Integer vote labels: the consensus is coded once (``audit --votes`` refused them with
    "label '1' is not one of the 2 classes [0, 1]" while ``aggregate`` accepted them)."""
    df, _ = _toy(flip=0.0)
    truth = np.searchsorted(np.array(["ant", "bee", "cat"]), df["label"].to_numpy())
    votes = _int_votes(df, truth)
    res = audit(df.drop(columns=["label"]), vectors="v", id="id", votes=votes, seed=0)
    got = res.issues.set_index("item_id").loc[df["id"], "consensus_label"].to_numpy()
    assert set(np.unique(got)) <= {0, 1, 2}
    assert (got.astype(int) == truth).mean() > 0.95
    # the same integers written as text in a label column agree with them (1 == "1")
    labelled = df.assign(label=[str(t) for t in truth])
    res2 = audit(labelled, vectors="v", id="id", label="label", votes=votes, seed=0)
    assert res2.summary["n_classes"] == 3


def test_vote_in_a_class_no_label_uses_is_refused_with_rows(tmp_path: Path) -> None:
    df, _ = _toy(flip=0.0)
    votes = pd.DataFrame(
        {
            "item_id": list(df["id"][:6]) + ["i0"],
            "source": ["a", "b", "c", "a", "b", "c", "d"],
            "label": ["ant", "ant", "ant", "bee", "bee", "bee", "dog"],
        }
    )
    with pytest.raises(InputError, match=r"rows 6: 1 labels are not one of.*'dog' \(1 rows\)"):
        audit(df, vectors="v", id="id", label="label", votes=votes, seed=0)
    with pytest.raises(InputError, match="--allow-new-classes"):
        audit(df, vectors="v", id="id", label="label", votes=votes, seed=0)
    res = audit(
        df, vectors="v", id="id", label="label", votes=votes, seed=0, allow_new_classes=True
    )
    assert res.issues.set_index("item_id").loc["i0", "n_votes"] == 2
    # the CLI names the flag and exits non-zero without a traceback
    data = _write(tmp_path, df)
    vpath = tmp_path / "votes.csv"
    votes.to_csv(vpath, index=False)
    args = ["audit", str(data), "--id-column", "id", "--vectors-column", "v"]
    args += ["--label-column", "label", "--votes", str(vpath), "--out", str(tmp_path / "r")]
    r = runner.invoke(app, args)
    assert r.exit_code != 0 and "allow-new-classes" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, [*args, "--allow-new-classes"])
    assert r.exit_code == 0, r.output
