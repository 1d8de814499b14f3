"""Screenshots of the review app's multi-label, number and span editors for docs/review.md.

Runs what a new user runs on real data (``../shared/datasets``): ``truelabel audit --task
multilabel`` on 400 GoEmotions dev comments, ``--task regression`` on 300 MovieReviews with
one crowd worker's rating per review (word-count vectors: the texts are not published),
``--task token`` on the first 200 blocks of CoNLL-2003 dev; ``truelabel review import``,
``truelabel users add``, ``truelabel serve``; then Playwright drives headless Chromium and
writes PNGs to ``docs/img``.

    python scripts/review_task_screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from review_screenshots import CHROMIUM, PASSWORD, ROOT, _truelabel, serving

DATA = ROOT.parent / "shared" / "datasets"


def build(work: Path) -> str:
    """The three data sets, their audits, three projects and one reviewer."""
    names = (DATA / "multilabel" / "goemotions" / "labels.txt").read_text().split()
    ge = pd.read_csv(
        DATA / "multilabel" / "goemotions" / "dev.tsv.gz",
        sep="\t",
        header=None,
        names=["text", "labels", "id"],
        quoting=3,
    ).head(400)
    ge["tags"] = [",".join(names[int(x)] for x in s.split(",")) for s in ge["labels"].astype(str)]
    ge[["id", "text", "tags"]].to_csv(work / "goemotions.csv", index=False)
    base = DATA / "regression" / "moviereviews-crowd"
    answers = np.loadtxt(base / "answers.txt.gz")[:300]
    rng = np.random.default_rng(0)
    rating = [float(rng.choice(a[a < 1e8])) for a in answers]  # one worker's rating each
    counts: list[dict[int, float]] = []
    with gzip.open(base / "data_train_amt.txt.gz", "rt") as f:
        for line in f:
            if len(counts) == 300:
                break
            counts.append({int(a): float(b) for a, b in (t.split(":") for t in line.split()[1:])})
    vocab = pd.Series([w for c in counts for w in c]).value_counts().index[:300]
    X = np.log1p(np.array([[c.get(w, 0.0) for w in vocab] for c in counts], dtype=np.float32))
    np.save(work / "X.npy", X)
    pd.DataFrame(
        {"review": np.arange(300), "rating": rating, "text": [f"review {i}" for i in range(300)]}
    ).to_csv(work / "movies.csv", index=False)
    dev = gzip.open(DATA / "token" / "conll2003" / "original" / "dev.txt.gz", "rt").read()
    (work / "conll_dev.txt").write_text("\n\n".join(dev.split("\n\n")[:200]) + "\n")

    db = str(work / "review.db")
    _truelabel(
        "audit", str(work / "goemotions.csv"), "--task", "multilabel", "--text-column", "text",
        "--label-column", "tags", "--label-sep", ",", "--id-column", "id",
        "--featurizer", "tfidf", "--out", str(work / "goemo"),
    )  # fmt: skip
    _truelabel(
        "audit", str(work / "movies.csv"), "--task", "regression", "--label-column", "rating",
        "--id-column", "review", "--text-column", "text", "--vectors-file", str(work / "X.npy"),
        "--out", str(work / "movies"),
    )  # fmt: skip
    _truelabel("audit", str(work / "conll_dev.txt"), "--task", "token", "--out", str(work / "ner"))
    for run, project in (("goemo", "goemotions"), ("movies", "movies"), ("ner", "conll-dev")):
        _truelabel("review", "import", str(work / run), "--project", project, "--db", db)
    _truelabel(
        "users", "add", "ana", "--project", "goemotions", "--project", "movies",
        "--project", "conll-dev", "--db", db,
    )  # fmt: skip
    return db


def shoot(db: str, out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    written: list[Path] = []
    with serving(db) as url:
        expect.set_options(timeout=60_000)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = browser.new_context(viewport={"width": 1200, "height": 860}).new_page()
            page.goto(url + "/login")
            page.fill("#username", "ana")
            page.fill("#password", PASSWORD)
            page.click("#login-button")

            def snap(name: str) -> None:
                path = out / name
                page.screenshot(path=str(path), full_page=False)
                written.append(path)

            page.goto(url + "/projects/goemotions")
            page.click("#start-review")
            expect(page.locator("#tag-editor")).to_be_visible()
            page.keyboard.press("3")  # toggle the third tag
            snap("review-multilabel.png")
            page.goto(url + "/projects/movies")
            page.click("#start-review")
            expect(page.locator("#value-input")).to_be_visible()
            page.keyboard.press("e")
            page.keyboard.type("x")
            page.keyboard.press("Enter")  # the one clear message on a non-number
            expect(page.locator("#value-error")).to_be_visible()
            snap("review-regression.png")
            page.goto(url + "/projects/conll-dev")
            page.click("#start-review")
            expect(page.locator("#span-editor")).to_be_visible()
            page.keyboard.press("ArrowRight")
            page.keyboard.press("Shift+ArrowRight")
            snap("review-spans.png")
            browser.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tl-task-shots-") as tmp:
        db = build(Path(tmp))
        for path in shoot(db, args.out):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
