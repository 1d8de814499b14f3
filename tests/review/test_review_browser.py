"""Browser test: Playwright drives Debian's Chromium headless against a real server.

Log in, review three items by keyboard (plus one through the class finder), see the counts change, export.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from review_helpers import PASSWORD, Server, make_audit_run
from truelabel.review import add_user, export_review, import_review

pytestmark = pytest.mark.full

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def test_keyboard_review_in_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Chromium is not installed; run `bash scripts/system-deps.sh` (make test-full does)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    db_url = f"sqlite:///{tmp_path / 'browser.db'}"
    texts = ["<b>bold?</b> refund please"] + [f"text of item {i}" for i in range(1, 12)]
    import_review(make_audit_run(tmp_path / "run", n=12, texts=texts), "demo", db=db_url)
    add_user("alice", PASSWORD, db=db_url, projects=["demo"])
    server = Server(db_url).start()
    shots = tmp_path / "shots"
    shots.mkdir()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page()
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)
            page.goto(server.url + "/projects/demo/review")
            assert "/login" in page.url
            page.fill("#username", "alice")
            page.fill("#password", PASSWORD)
            page.click("#login-button")
            page.wait_for_selector("#btn-next")  # reading the page leased nothing
            page.keyboard.press("Enter")
            page.wait_for_selector("#item-id")
            assert page.inner_text("#item-id") == "it0"
            assert page.inner_text("#item-text") == "<b>bold?</b> refund please"  # shown as text
            assert page.inner_text("#count-done") == "0"
            page.screenshot(path=str(shots / "item.png"), full_page=True)
            # three decisions by keyboard: accept suggested, pick class 3, accept given
            for key, want_next, done in (("s", "it1", "1"), ("3", "it2", "2"), ("g", "it3", "3")):
                page.keyboard.press(key)
                # locator assertions, not wait_for_function: a string predicate is eval'd in
                # the page, which the review UI's CSP (script-src 'self') rightly refuses
                expect(page.locator("#item-id")).to_have_text(want_next)
                expect(page.locator("#count-done")).to_have_text(done)
            assert page.inner_text("#count-mine") == "3"
            # many classes: "/" focuses the class finder, Enter picks the first match
            page.keyboard.press("/")
            page.keyboard.type("po")
            page.keyboard.press("Enter")
            expect(page.locator("#count-done")).to_have_text("4")
            page.goto(server.url + "/projects/demo")
            assert page.inner_text("#count-done") == "4"
            assert page.inner_text("#count-open") == "8"
            with page.expect_download() as dl:
                page.click("#export-labels")
            csv_path = tmp_path / "labels.csv"
            dl.value.save_as(str(csv_path))
            page.screenshot(path=str(shots / "project.png"), full_page=True)
            browser.close()
    finally:
        server.stop()
    labels = pd.read_csv(csv_path).set_index("item_id")
    # it0: suggested neu; it1 (given neu): key 3 = pos; it2: given pos
    # it3 (given neg): "pos" through the class finder
    assert [labels.loc[i, "label"] for i in ("it0", "it1", "it2", "it3")] == [
        "neu",
        "pos",
        "pos",
        "pos",
    ]
    assert list(labels.loc[["it0", "it1", "it2", "it3"], "decision_source"]) == ["review"] * 4
    res = export_review("demo", tmp_path / "exp", db=db_url)
    assert res.n_gold == 4
    keep = Path(__file__).resolve().parents[2] / ".review-screens"
    if keep.exists():  # developers can ask for the screenshots by creating this folder
        for f in shots.iterdir():
            shutil.copy(f, keep / f.name)
