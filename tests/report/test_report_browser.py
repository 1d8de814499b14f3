"""Every report in Chromium: one run of each command, opened as a file, screenshot taken.

A report fails when the page logs a console error (a Content-Security-Policy violation
included: the page allows no inline script or style), when a chart or image does not
render, when ``report.css`` or ``report.js`` did not load, or when its tables cannot be
sorted and searched. Playwright drives Debian's Chromium (``scripts/system-deps.sh``);
waits use locator assertions (a string predicate would be eval'd in the page, which the
CSP refuses).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from report_runs import build_runs

pytestmark = pytest.mark.full

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
REPORTS = [
    "audit",
    "audit_local",
    "audit_token",
    "audit_multilabel",
    "audit_regression",
    "aggregate",
    "aggregate_spans",
    "aggregate_numeric",
    "aggregate_local",
    "train",
    "predict_local",
    "estimate",
    "plan",
    "plan_select",
    "label",
    "label_llm",
]


def _llm_behaviour(req: dict[str, Any], call: int) -> tuple[int, Any, dict[str, str]]:
    """A scripted endpoint: answers in the class list, every 7th answer names no class, and
    an answer longer than ``max_tokens`` characters is cut off as a real server does."""
    from llm_server import completion

    enum = req["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"]
    ans = "I am not sure" if call % 7 == 0 else json.dumps({"label": enum[call % len(enum)]})
    limit = int(req.get("max_tokens", 10_000))
    body = completion(ans[:limit])
    if len(ans) > limit:
        body["choices"][0]["finish_reason"] = "length"
    return 200, body, {}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))
    from llm_server import FlakyServer

    with FlakyServer(_llm_behaviour) as server:
        return build_runs(tmp_path_factory.mktemp("reports"), llm_url=server.url)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Chromium is not installed; run `bash scripts/system-deps.sh` (make test-full does)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=30_000)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def _open(browser: Any, url: str, errors: list[str]) -> Any:
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page


def check_report(page: Any, errors: list[str]) -> None:
    """The assertions every report must pass (see the module docstring)."""
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("data-report-ready", "1")  # report.js ran
    header = page.locator("header.top")
    expect(header).to_have_css("background-color", "rgb(31, 41, 55)")  # report.css loaded
    charts = page.locator("svg.chart")
    assert charts.count() >= 1, "no chart"
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 80, f"chart {i}: {box}"
        assert charts.nth(i).locator("text").count() >= 3, f"chart {i} has no labels"
    images = page.locator("img")
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), f"img {i}"
    tables = page.locator("table.data")
    for i in range(tables.count()):
        t = tables.nth(i)
        n = t.locator("tbody tr").count()
        if n < 2:
            continue
        head = t.locator("thead th").first
        head.click()
        expect(head).to_have_attribute("aria-sort", "ascending")
        head.click()
        expect(head).to_have_attribute("aria-sort", "descending")
        if n >= 6:
            box = page.locator(f'input[data-table="{t.get_attribute("id")}"]')
            box.fill("zzzz no row has this zzzz")
            expect(t.locator("tbody tr:not(.hidden)")).to_have_count(0)
            box.fill("")
            expect(t.locator("tbody tr:not(.hidden)")).to_have_count(n)
    assert not errors, errors


@pytest.mark.parametrize("name", REPORTS)
def test_report_renders_in_chromium(
    name: str, runs: dict[str, Path], chromium: Any, tmp_path: Path
) -> None:
    run = runs[name]
    for f in ("report.html", "report.css", "report.js"):
        assert (run / f).is_file(), f"{name}: no {f}"
    errors: list[str] = []
    page = _open(chromium, (run / "report.html").as_uri(), errors)
    check_report(page, errors)
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000, "the screenshot is (nearly) blank"
    page.context.close()


def test_the_check_fails_on_an_inline_script_and_a_missing_image(
    runs: dict[str, Path], chromium: Any, tmp_path: Path
) -> None:
    """The harness can fail: an injected inline script is refused by the page's CSP (a
    console error), and a broken image is caught."""
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(runs["aggregate"], bad)
    html = (bad / "report.html").read_text(encoding="utf-8")
    html = html.replace("<main>", '<main><script>document.title="x"</script><img src="nope.png">')
    (bad / "report.html").write_text(html, encoding="utf-8")
    errors: list[str] = []
    page = _open(chromium, (bad / "report.html").as_uri(), errors)
    with pytest.raises(AssertionError):
        check_report(page, errors)
    assert any("Content Security Policy" in e for e in errors), errors
    page.context.close()
