"""Browser tests: Playwright drives Debian's Chromium headless against a real server, on
SQLite and on PostgreSQL.

The review flow by keyboard (hotkeys 1-5 on the suggestion and the model's top classes, the
class finder, undo), changing a decision from the search, a bulk decision with its
confirmation, and the admin pages (add a user, members, deactivate). Waits use locator
assertions, never ``wait_for_function``: a string predicate is eval'd in the page, which the
review UI's CSP (script-src 'self') rightly refuses. Any console error (a CSP violation
included) fails the test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(params=["sqlite", "postgresql"])
def browser_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'browser.db'}"


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Chromium is not installed; run `bash scripts/system-deps.sh` (make test-full does)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=60_000)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def _page(browser: Any, errors: list[str]) -> Any:
    """A page in a fresh context (its own cookies), collecting console errors."""
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def _login(page: Any, name: str, password: str = PASSWORD) -> None:
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#login-button")


def test_review_flow_in_chromium(browser_db: str, chromium: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    texts = ["<b>bold?</b> refund please"] + [f"text of item {i}" for i in range(1, 12)]
    import_review(make_audit_run(tmp_path / "run", n=12, texts=texts), "demo", db=browser_db)
    add_user("admin", PASSWORD, role="admin", db=browser_db)
    add_user("alice", PASSWORD, db=browser_db, projects=["demo"])
    server = Server(browser_db).start()
    shots = tmp_path / "shots"
    shots.mkdir()
    errors: list[str] = []
    try:
        page = _page(chromium, errors)
        page.goto(server.url + "/projects/demo/review")
        assert "/login" in page.url
        _login(page, "alice")
        expect(page.locator("#btn-next")).to_be_visible()  # reading the page leased nothing
        page.keyboard.press("Enter")
        expect(page.locator("#item-id")).to_have_text("it0")
        assert page.inner_text("#item-text") == "<b>bold?</b> refund please"  # shown as text
        # hotkeys: 1 = the suggestion, then the model's most probable classes
        expect(page.locator('#top-choices button[data-key="1"] .cls-name')).to_have_text("neu")
        expect(page.locator("#all-classes")).not_to_have_attribute("open", "")
        page.screenshot(path=str(shots / "review-item.png"), full_page=True)
        # it0 "1" (suggested neu), it1 "3" (its third choice), it2 "g" (given pos)
        third = page.locator('#top-choices button[data-key="3"] .cls-name')
        for key, want_next, done in (("1", "it1", "1"), ("3", "it2", "2"), ("g", "it3", "3")):
            if key == "3":
                picked_it1 = third.inner_text()
            page.keyboard.press(key)
            expect(page.locator("#item-id")).to_have_text(want_next)
            expect(page.locator("#count-done")).to_have_text(done)
        expect(page.locator("#flash-item")).to_have_text("it2")
        expect(page.locator("#flash-label")).to_have_text("pos")
        # "/" opens the full class list behind the filter; Enter picks the first match
        page.keyboard.press("/")
        expect(page.locator("#class-filter")).to_be_focused()
        page.keyboard.type("po")
        expect(page.locator('#class-list button[data-name="neg"]')).to_be_hidden()
        page.keyboard.press("Enter")
        expect(page.locator("#count-done")).to_have_text("4")
        expect(page.locator("#flash-item")).to_have_text("it3")
        # undo by keyboard: it3 comes back, counts go down, decide it again
        page.keyboard.press("u")
        expect(page.locator("#item-id")).to_have_text("it3")
        expect(page.locator("#flash-was")).to_have_text("pos")
        expect(page.locator("#count-done")).to_have_text("3")
        page.keyboard.press("k")  # skip it this time
        expect(page.locator("#item-id")).to_have_text("it4")
        expect(page.locator("#count-mine")).to_have_text("3")

        # change a decision: search, open the item, pick another class
        page.goto(server.url + "/projects/demo?q=item+1")
        page.click('a.open-item:text-is("it1")')
        expect(page.locator("#my-decision strong")).to_have_text(picked_it1)
        other = "neg" if picked_it1 != "neg" else "neu"
        page.click(f'#top-choices button:has(.cls-name:text-is("{other}"))')
        expect(page.locator("#flash-was")).to_have_text(picked_it1)
        expect(page.locator("#my-decision strong")).to_have_text(other)

        # bulk: label issues on the project page, select two, confirm
        page.goto(server.url + "/projects/demo?issue=label_issue")
        expect(page.locator("#result-count")).to_contain_text("4 items match")
        page.check('input.pick[value="it6"]')
        page.check('input.pick[value="it9"]')
        page.screenshot(path=str(shots / "review-bulk.png"), full_page=True)
        page.click("#bulk-selected")
        expect(page.locator("#bulk-n")).to_have_text("2")
        page.screenshot(path=str(shots / "review-bulk-confirm.png"), full_page=True)
        page.click("#bulk-confirm")
        expect(page.locator("#bulk-saved")).to_have_text("2")
        expect(page.locator("#count-done")).to_have_text("5")
        expect(page.locator("#decisions-used")).to_contain_text("1 changed and 1 undone")
        page.screenshot(path=str(shots / "review-project.png"), full_page=True)
        with page.expect_download() as dl:
            page.click("#export-labels")
        csv_path = tmp_path / "labels.csv"
        dl.value.save_as(str(csv_path))

        # admin: add a reviewer to the project, then deactivate alice
        admin = _page(chromium, errors)
        admin.goto(server.url + "/admin/users")
        _login(admin, "admin")
        expect(admin.locator("#users")).to_be_visible()
        admin.fill("#new-name", "bea")
        admin.fill("#new-password", "bea password 1")
        admin.check('#add-user input[name="project"][value="demo"]')
        admin.click("#add-user-button")
        expect(admin.locator("#admin-done")).to_contain_text("created user")
        expect(admin.locator("#user-bea td.classes")).to_have_text("demo")
        admin.locator("#user-alice button.deactivate").click()
        expect(admin.locator("#user-alice td.state")).to_have_text("no")
        admin.screenshot(path=str(shots / "review-admin-users.png"), full_page=True)
        admin.goto(server.url + "/admin/projects/demo/members")
        expect(admin.locator("#member-bea")).to_be_visible()
        admin.locator("#member-bea button.remove").click()
        expect(admin.locator("#admin-done")).to_contain_text("removed")
        admin.select_option("#member-name", "bea")
        admin.click("#add-member-button")
        expect(admin.locator("#member-bea")).to_be_visible()
        admin.screenshot(path=str(shots / "review-admin-members.png"), full_page=True)
        # alice's session ended with the deactivation
        page.goto(server.url + "/projects/demo")
        expect(page.locator("#login-button")).to_be_visible()
    finally:
        server.stop()
    assert errors == []  # no CSP violation, no script error
    labels = pd.read_csv(csv_path).set_index("item_id")
    # it0: suggested neu; it1 changed to `other`; it2: given pos; it3 skipped after the undo;
    # it6 and it9: bulk "accept suggested"
    assert labels.loc["it0", "label"] == "neu" and labels.loc["it1", "label"] == other
    assert labels.loc["it2", "label"] == "pos" and labels.loc["it3", "decision_source"] == "given"
    assert [labels.loc[i, "label"] for i in ("it6", "it9")] == [
        labels.loc[i, "suggested_label"] for i in ("it6", "it9")
    ]
    res = export_review("demo", tmp_path / "exp", db=browser_db)
    assert res.n_gold == 5
    assert (res.summary["decisions"]["changed"], res.summary["decisions"]["undone"]) == (1, 1)
    keep = Path(__file__).resolve().parents[2] / ".review-screens"
    if keep.exists():  # developers can ask for the screenshots by creating this folder
        for f in shots.iterdir():
            shutil.copy(f, keep / f.name)
