"""The whole loop on real files, through the CLI: audit or aggregate → review import →
decisions → review export → ``aggregate --gold`` / ``estimate`` / the CoNLL reader.

CrowdTruth medical multi-select votes (CoNLL-style relation options), MovieReviews crowd
ratings and the first 120 sentences of CoNLL-2003 dev.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _shared import shared_path
from review_helpers import PASSWORD, token_for
from truelabel.cli import app
from truelabel.io import load_conll
from truelabel.review import add_user, export_review

pytestmark = pytest.mark.full
runner = CliRunner()


def _cli(*args: str) -> str:
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.output


def _client(url: str, projects: list[str]) -> tuple[object, dict[str, str]]:
    from fastapi.testclient import TestClient

    from truelabel.review import ReviewSettings, create_app

    add_user("alice", PASSWORD, db=url, projects=projects)
    c = TestClient(create_app(ReviewSettings(db_url=url)), base_url="http://testserver")
    return c, token_for(c, "alice")


def test_multilabel_and_numeric_gold_flow_back(tmp_path: Path) -> None:
    raw = pd.read_csv(
        shared_path("crowd", "crowdtruth-multiselect", "cross_task", "medical_raw.csv.gz")
    )
    tags = raw["judgement"].astype(str).str.findall(r"\[([^\]]+)\]")
    votes = pd.DataFrame(
        {
            "item_id": raw["Sent_id"],
            "source": raw["Work_id"],
            "label": tags.map(lambda t: ",".join(dict.fromkeys(t))),
        }
    ).drop_duplicates(["item_id", "source"], keep="last")
    votes.to_csv(tmp_path / "med.csv", index=False)
    _cli("aggregate", tmp_path / "med.csv", "--label-type", "multilabel", "--out", tmp_path / "agg")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _cli("review", "import", tmp_path / "agg", "--project", "med", "--db", url)

    base = ("regression", "moviereviews-crowd")
    A = np.loadtxt(shared_path(*base, "answers.txt.gz"))[:200]
    author = np.loadtxt(shared_path(*base, "labels_train_amt.txt"))[:200]
    i, j = np.nonzero(A < 1e8)
    pd.DataFrame({"item_id": i, "source": j, "label": A[i, j]}).to_csv(
        tmp_path / "mv.csv", index=False
    )
    _cli("aggregate", tmp_path / "mv.csv", "--label-type", "numeric", "--out", tmp_path / "mvagg")
    _cli("review", "import", tmp_path / "mvagg", "--project", "movies", "--db", url)

    c, h = _client(url, ["med", "movies"])
    p = c.get("/api/projects/med", headers=h).json()  # type: ignore[attr-defined]
    assert p["task"] == "multilabel" and "causes" in p["classes"]
    decided: dict[str, str] = {}
    for k in range(25):  # the reviewer ticks "causes" on every other item
        t = c.post("/api/projects/med/tasks/next", headers=h).json()  # type: ignore[attr-defined]
        have = [x for x in (t["item"]["suggested_label"] or "").split(",") if x]
        want = sorted(set(have) ^ {"causes"}) if k % 2 else have
        r = c.post(  # type: ignore[attr-defined]
            f"/api/projects/med/tasks/{t['task_id']}/reviews",
            json={"action": "other", "label": want},
            headers=h,
        )
        decided[t["item"]["item_id"]] = r.json()["label"]
    for _ in range(25):  # the author's rating as the reviewer's number
        t = c.post("/api/projects/movies/tasks/next", headers=h).json()  # type: ignore[attr-defined]
        y = float(author[int(t["item"]["item_id"])])
        c.post(  # type: ignore[attr-defined]
            f"/api/projects/movies/tasks/{t['task_id']}/reviews",
            json={"action": "other", "label": y},
            headers=h,
        )
    export_review("med", tmp_path / "med_exp", db=url)
    export_review("movies", tmp_path / "mv_exp", db=url)

    # multi-label gold clamps those items' tag sets
    _cli(
        "aggregate", tmp_path / "med.csv", "--label-type", "multilabel",
        "--gold", tmp_path / "med_exp" / "gold.parquet", "--out", tmp_path / "agg2",
    )  # fmt: skip
    lab = pd.read_parquet(tmp_path / "agg2" / "labels.parquet")
    got = dict(zip(lab["item_id"].astype(str), lab["label"].fillna(""), strict=True))
    assert all(got[k] == v for k, v in decided.items())
    assert json.loads((tmp_path / "agg2" / "summary.json").read_text())["n_gold_items"] == 25
    # numeric gold clamps the estimates; estimate reads the same gold file
    _cli(
        "aggregate", tmp_path / "mv.csv", "--label-type", "numeric",
        "--gold", tmp_path / "mv_exp" / "gold.parquet", "--out", tmp_path / "mvagg2",
    )  # fmt: skip
    gold = pd.read_parquet(tmp_path / "mv_exp" / "gold.parquet")
    assert gold["label"].dtype == np.float64 and len(gold) == 25
    est = pd.read_parquet(tmp_path / "mvagg2" / "labels.parquet")
    m = gold.assign(item_id=gold["item_id"].astype(int)).merge(
        est.assign(item_id=est["item_id"].astype(int)), on="item_id"
    )
    assert np.allclose(m["label_x"], m["label_y"])
    out = _cli(
        "estimate", tmp_path / "mvagg" / "labels.parquet", "--gold",
        tmp_path / "mv_exp" / "gold.parquet", "--sampling-prob-column", "sampling_prob",
        "--out", tmp_path / "est",
    )  # fmt: skip
    assert "25 gold" in out


def test_span_review_exports_conll_the_audit_reads(tmp_path: Path) -> None:
    lines = gzip.open(shared_path("token", "conll2003", "original", "dev.txt.gz"), "rt").read()
    blocks = lines.split("\n\n")[:120]
    (tmp_path / "dev.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    _cli("audit", tmp_path / "dev.txt", "--task", "token", "--out", tmp_path / "tok")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _cli("review", "import", tmp_path / "tok", "--project", "ner", "--db", url)
    c, h = _client(url, ["ner"])
    p = c.get("/api/projects/ner", headers=h).json()  # type: ignore[attr-defined]
    assert p["task"] == "token" and p["classes"] == ["LOC", "MISC", "ORG", "PER"]
    t = c.post("/api/projects/ner/tasks/next", headers=h).json()  # type: ignore[attr-defined]
    text = t["item"]["text"]
    first = text.split()[0]
    spans = [[0, len(first), "MISC"]]
    r = c.post(  # type: ignore[attr-defined]
        f"/api/projects/ner/tasks/{t['task_id']}/reviews",
        json={"action": "other", "label": spans},
        headers=h,
    )
    assert r.status_code == 201, r.text
    bad = c.post(  # type: ignore[attr-defined]
        f"/api/projects/ner/tasks/{t['task_id']}/reviews",
        json={"action": "other", "label": [[0, len(text) + 5, "MISC"]]},
        headers=h,
    )
    assert bad.status_code == 422 and "outside the text" in bad.json()["detail"]
    export_review("ner", tmp_path / "exp", db=url)
    ds = load_conll(tmp_path / "exp" / "labels.conll")
    audit = json.loads((tmp_path / "tok" / "summary.json").read_text())
    n_sent = pd.read_parquet(tmp_path / "tok" / "issues.parquet")["sentence_id"].nunique()
    assert ds.n_sentences == n_sent == 112  # one review item per sentence of issues.parquet
    assert ds.entity_types == ["LOC", "MISC", "ORG", "PER"]
    spans_tab = pd.read_parquet(tmp_path / "exp" / "spans.parquet")
    mine = spans_tab[spans_tab["item_id"] == t["item"]["item_id"]]
    assert mine[["start", "end", "label"]].values.tolist() == [[0, len(first), "MISC"]]
    # the unreviewed sentences keep the given entities: as many as the audit counted, minus
    # those of the one reviewed sentence, plus its one
    n_given = audit["n_entities"]
    given_here = len(json.loads(t["item"]["given_label"]))
    assert len(spans_tab) == n_given - given_here + 1
    # the exported file audits again as a CoNLL file
    _cli("audit", tmp_path / "exp" / "labels.conll", "--task", "token", "--out", tmp_path / "tok2")
