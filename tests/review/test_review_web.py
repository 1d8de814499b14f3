"""Server-rendered pages: log in, review through the form, counts change, CSV export."""

from __future__ import annotations

import io
import re
from typing import Any

import pandas as pd
from test_review_security import csrf_of, login, start_review


def decide(c: Any, page: str, choice: str, **extra: str) -> Any:
    task = re.search(r"/tasks/(\d+)/review", page).group(1)  # type: ignore[union-attr]
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return c.post(
        f"/projects/demo/tasks/{task}/review",
        data={"choice": choice, "csrf": csrf_of(page), "key": key, **extra},
    )


def test_login_review_counts_export(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    r = c.get("/projects/demo/review", follow_redirects=False)
    assert r.headers["location"] == "/login?next=/projects/demo/review"
    bad = c.post(
        "/login",
        data={"username": "alice", "password": "nope-nope", "csrf": csrf_of(c.get("/login").text)},
    )
    assert bad.status_code == 401 and "Wrong user name or password" in bad.text
    assert login(c, "alice").status_code == 303
    home = c.get("/")
    assert "demo" in home.text and "alice (reviewer)" in home.text
    empty = c.get("/projects/demo/review").text
    assert "Open the next item" in empty and 'id="item-id"' not in empty  # GET never leases
    page = start_review(c).text
    assert c.get("/projects/demo/review").text.count('id="item-id">it0<') == 1  # held, shown
    assert (
        'id="item-id">it0<' in page
        and re.search(
            r'value="suggested" data-key="1"[^>]*>\s*<kbd>1</kbd> <span class="cls-name">neu', page
        )
        and 'id="count-done">0<' in page
    )
    assert "text of item 1" in page  # neighbour it1 shown with its text
    page = decide(c, page, "suggested").text  # redirect followed to the next item
    assert 'id="count-done">1<' in page and 'id="item-id">it1<' in page
    assert 'Saved <code id="flash-item">it0</code>:' in page and "accepted the suggestion" in page
    page = decide(c, page, "label:pos", note="sure").text
    page = decide(c, page, "skip").text
    assert 'id="count-done">2<' in page and 'id="count-mine">2<' in page
    resend = decide(c, page, "ambiguous")
    assert resend.status_code == 200
    project = c.get("/projects/demo").text
    assert 'id="count-done">3<' in project and "<td>alice</td><td>3</td>" in project
    labels = pd.read_csv(io.StringIO(c.get("/projects/demo/export/labels.csv").text)).set_index(
        "item_id"
    )
    assert labels.loc["it0", "label"] == "neu" and labels.loc["it1", "label"] == "pos"
    gold = pd.read_csv(io.StringIO(c.get("/projects/demo/export/gold.csv").text))
    assert list(gold["source"]) == ["review:alice", "review:alice"]
    assert c.get("/projects/demo/export/secrets.csv").status_code == 404


def test_filtered_queue_and_empty_queue(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    login(c, "bob")
    page = start_review(c, issue="outlier").text
    assert 'id="item-id">it5<' in page
    page = decide(c, page, "given", issue_filter="outlier").text
    assert "Nothing left to review with these filters" in page
    assert c.get("/projects/nope/review").status_code == 404
    assert c.get("/projects/demo/review", params={"label": "bogus"}).status_code == 422
    assert start_review(c, label="bogus").status_code == 422
