"""Chromium really reviews multi-label, numeric and span labels by keyboard and mouse, then
the export is read back (Playwright, Debian's Chromium, a real server on 127.0.0.1).

Waits are locator assertions (the page's CSP refuses eval'd predicates); any console error
fails the test.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_review_browser import _login, _page, chromium  # noqa: F401  (chromium: a fixture)

from review_helpers import PASSWORD, Server, make_task_run
from truelabel.review import add_user, export_review, import_review

pytestmark = pytest.mark.full


def _serve(tmp_path: Path, task: str, n: int) -> tuple[str, Server]:
    url = f"sqlite:///{tmp_path / f'{task}.db'}"
    import_review(make_task_run(tmp_path / task, task, n=n), task, db=url)
    add_user("alice", PASSWORD, db=url, projects=[task])
    return url, Server(url).start()


def _keep(shots: Path) -> None:
    keep = Path(__file__).resolve().parents[2] / ".review-screens"
    if keep.exists():  # developers can ask for the screenshots by creating this folder
        for f in shots.iterdir():
            shutil.copy(f, keep / f.name)


def test_multilabel_and_numbers_by_keyboard(chromium: Any, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    shots = tmp_path / "shots"
    shots.mkdir()
    errors: list[str] = []
    url, server = _serve(tmp_path, "multilabel", 3)
    try:
        page = _page(chromium, errors)
        page.goto(server.url + "/projects/multilabel/review")
        _login(page, "alice")
        expect(page.locator("#btn-next")).to_be_focused()
        page.keyboard.press("Enter")  # open the first item
        expect(page.locator("#item-id")).to_have_text("it0")
        # pre-filled with the suggestion (anger, joy); number keys toggle, "/" finds a tag
        boxes = page.locator("#tag-list input[type=checkbox]")
        expect(boxes.nth(0)).to_be_checked()  # joy (most probable)
        expect(boxes.nth(1)).to_be_checked()  # anger
        expect(boxes.nth(2)).not_to_be_checked()
        page.keyboard.press("1")  # joy off
        page.keyboard.press("3")  # sadness on
        expect(boxes.nth(0)).not_to_be_checked()
        expect(page.locator('input[value="sadness"]')).to_be_checked()
        page.keyboard.press("/")
        expect(page.locator("#tag-filter")).to_be_focused()
        page.keyboard.type("surp")
        page.keyboard.press("Enter")
        expect(page.locator('input[value="surprise"]')).to_be_checked()
        page.screenshot(path=str(shots / "review-multilabel.png"), full_page=True)
        page.locator("#tag-filter").press("Escape")
        page.keyboard.press("Enter")  # save
        expect(page.locator("#item-id")).to_have_text("it1")
        expect(page.locator("#flash-label")).to_have_text("anger,sadness,surprise")
        page.keyboard.press("s")  # accept the suggestion of it1
        expect(page.locator("#item-id")).to_have_text("it2")
        assert errors == []
    finally:
        server.stop()
    export_review("multilabel", tmp_path / "ml_exp", db=url)
    lab = pd.read_csv(tmp_path / "ml_exp" / "labels.csv", keep_default_na=False)
    assert lab["label"].tolist() == ["anger,sadness,surprise", "joy,sadness", "sadness"]

    url, server = _serve(tmp_path, "regression", 3)
    try:
        page = _page(chromium, errors)
        page.goto(server.url + "/projects/regression/review")
        _login(page, "alice")
        expect(page.locator("#btn-next")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#value-input")).to_have_value("0.5")  # the suggested value
        page.keyboard.press("e")
        expect(page.locator("#value-input")).to_be_focused()
        page.keyboard.type("seven")
        page.keyboard.press("Enter")
        expect(page.locator("#value-error")).to_have_text(
            "\u201cseven\u201d is not a number; enter a number such as 0.75."
        )
        expect(page.locator("#item-id")).to_have_text("0")  # nothing was sent
        page.fill("#value-input", "2.25")
        page.screenshot(path=str(shots / "review-regression.png"), full_page=True)
        page.keyboard.press("Enter")
        expect(page.locator("#flash-label")).to_have_text("2.25")
        expect(page.locator("#item-id")).to_have_text("1")
        page.keyboard.press("g")  # keep the given value
        expect(page.locator("#item-id")).to_have_text("2")
        expect(page.locator("#count-done")).to_have_text("2")
        assert errors == []
    finally:
        server.stop()
    export_review("regression", tmp_path / "rg_exp", db=url)
    lab = pd.read_parquet(tmp_path / "rg_exp" / "labels.parquet")
    assert lab["label"].tolist() == [2.25, 1.0, 2.0] and lab["label"].dtype == "float64"
    _keep(shots)


def test_span_editor_keyboard_and_mouse(chromium: Any, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    shots = tmp_path / "shots"
    shots.mkdir()
    errors: list[str] = []
    url, server = _serve(tmp_path, "token", 2)
    try:
        page = _page(chromium, errors)
        page.goto(server.url + "/projects/token/review")
        _login(page, "alice")
        expect(page.locator("#btn-next")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#item-text")).to_have_text("Ann Lee visited Paris .")
        # starts from the suggestion: Ann Lee PER, Paris LOC; the given one says Paris ORG
        marks = page.locator("#span-text mark")
        expect(marks).to_have_count(2)
        expect(page.locator("#given-spans mark").nth(1)).to_have_attribute("data-type", "ORG")
        expect(page.locator("#span-text")).to_be_focused()
        # keyboard: select "Ann", remove its span; select "Ann Lee" and make it ORG (key 2)
        page.keyboard.press("ArrowRight")
        expect(page.locator("#span-text .sel")).to_have_text("Ann")
        page.keyboard.press("x")
        expect(marks).to_have_count(1)
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Shift+ArrowRight")
        expect(page.locator("#span-text .sel")).to_have_text("Ann Lee")
        page.keyboard.press("2")
        expect(page.locator('#span-text mark[data-type="ORG"]')).to_have_text("Ann Lee")
        # mouse: double-click selects "visited", key 3 makes it PER, then remove it again
        page.locator("#span-text span", has_text="visited").dblclick()
        expect(page.locator("#span-text .sel")).to_have_text("visited")
        page.keyboard.press("3")
        expect(page.locator('#span-text mark[data-type="PER"]')).to_have_text("visited")
        page.locator("#span-list li", has_text="visited").locator("button.rm").click()
        expect(page.locator('#span-text mark[data-type="PER"]')).to_have_count(0)
        # mouse: double-click "Paris", the ORG button
        page.locator("#span-text mark", has_text="Paris").dblclick()
        page.locator('#type-keys button[data-type="ORG"]').click()
        expect(page.locator("#spans-input")).to_have_value('[[0,7,"ORG"],[16,21,"ORG"]]')
        page.screenshot(path=str(shots / "review-spans.png"), full_page=True)
        page.locator("#span-text").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#item-id")).to_have_text("1")
        expect(page.locator("#count-done")).to_have_text("1")
        assert errors == []
    finally:
        server.stop()
    out = tmp_path / "tok_exp"
    export_review("token", out, db=url)
    spans = pd.read_csv(out / "spans.csv")
    assert spans.values.tolist() == [
        [0, 0, 7, "ORG"],
        [0, 16, 21, "ORG"],
        [1, 0, 7, "PER"],
        [1, 16, 21, "ORG"],
    ]
    first = (out / "labels.conll").read_text().split("\n\n")[0].splitlines()
    assert first == ["Ann B-ORG", "Lee I-ORG", "visited O", "Paris B-ORG", ". O"]
    _keep(shots)
