"""Screenshots of the review app for docs/review.md, on the bundled Banking77 sample (77 classes).

Runs what a new user runs: ``truelabel audit`` (tf-idf), ``truelabel review import``,
``truelabel users add``, ``truelabel serve``; then Playwright drives headless Chromium (Debian's,
installed by ``scripts/system-deps.sh``) through the pages and writes PNGs to ``docs/img``.

    python scripts/review_screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "truelabel" / "data" / "banking77_demo.csv"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "review screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _truelabel(*args: str) -> None:
    exe = Path(sys.executable).with_name("truelabel")
    env = {**os.environ, "TRUELABEL_PASSWORD": PASSWORD}
    subprocess.run([str(exe), *args], check=True, env=env, stdout=subprocess.DEVNULL)


def build(work: Path) -> str:
    """Audit the sample, import it (poisson queue of 150 as in docs/review.md), add users."""
    db = str(work / "review.db")
    _truelabel(
        "audit", str(DATA), "--out", str(work / "audit"), "--label-column", "label",
        "--text-column", "text", "--id-column", "id", "--featurizer", "tfidf",
    )  # fmt: skip
    _truelabel(
        "review", "import", str(work / "audit"), "--project", "banking77", "--db", db,
        "--design", "poisson", "--budget", "150", "--floor", "0.2", "--power", "8", "--seed", "0",
    )  # fmt: skip
    _truelabel("users", "add", "admin", "--role", "admin", "--db", db)
    for name in ("ana", "bo"):
        _truelabel("users", "add", name, "--project", "banking77", "--db", db)
    _truelabel("users", "add", "cy", "--db", db)
    return db


@contextmanager
def serving(db: str) -> Iterator[str]:
    """``truelabel serve`` on a free port until the block ends; yields its URL."""
    port = _free_port()
    exe = Path(sys.executable).with_name("truelabel")
    server = subprocess.Popen(
        [str(exe), "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def shoot(db: str, out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    written: list[Path] = []
    with serving(db) as url:
        expect.set_options(timeout=60_000)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )

            def page_for(name: str) -> object:
                page = browser.new_context(viewport={"width": 1200, "height": 860}).new_page()
                page.goto(url + "/login")
                page.fill("#username", name)
                page.fill("#password", PASSWORD)
                page.click("#login-button")
                return page

            def snap(page: object, name: str, full: bool = True) -> None:
                path = out / name
                page.screenshot(path=str(path), full_page=full)  # type: ignore[attr-defined]
                written.append(path)

            ana = page_for("ana")
            ana.goto(url + "/projects/banking77")
            ana.click("#start-review")
            expect(ana.locator("#item-id")).to_be_visible()
            snap(ana, "review-item.png", full=False)
            ana.keyboard.press("1")  # accept the suggestion
            expect(ana.locator("#flash-item")).to_be_visible()
            ana.keyboard.press("/")
            ana.keyboard.type("card")
            snap(ana, "review-class-finder.png", full=False)
            ana.keyboard.press("Escape")
            ana.keyboard.press("2")
            expect(ana.locator("#flash-label")).to_be_visible()
            ana.keyboard.press("u")
            expect(ana.locator("#flash-was")).to_be_visible()
            snap(ana, "review-undo.png", full=False)
            ana.goto(url + "/projects/banking77?q=visa&issue=label_issue")
            boxes = ana.locator("input.pick")
            for i in range(min(3, boxes.count())):
                boxes.nth(i).check()
            ana.locator("#results").scroll_into_view_if_needed()
            snap(ana, "review-search-bulk.png")
            ana.click("#bulk-selected")
            expect(ana.locator("#bulk-n")).to_be_visible()
            snap(ana, "review-bulk-confirm.png", full=False)
            ana.click("#bulk-confirm")
            expect(ana.locator("#bulk-saved")).to_be_visible()

            admin = page_for("admin")
            expect(admin.locator("#projects")).to_be_visible()
            admin.locator("td.classes details").first.click()
            snap(admin, "review-projects.png", full=False)
            admin.goto(url + "/admin/users")
            snap(admin, "review-admin-users.png")
            admin.goto(url + "/admin/projects/banking77/members")
            admin.select_option("#member-name", "cy")
            admin.click("#add-member-button")
            expect(admin.locator("#member-cy")).to_be_visible()
            snap(admin, "review-admin-members.png")
            browser.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tl-shots-") as tmp:
        db = build(Path(tmp))
        for path in shoot(db, args.out):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
