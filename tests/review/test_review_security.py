"""Security: auth on every route, escaping, SQL-injection strings, CSRF, cookies, throttling."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from review_helpers import PASSWORD, make_audit_run, token_for
from truelabel import InputError
from truelabel.review import ReviewSettings, add_user, create_app, import_review

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SQLI = [
    "' OR 1=1 --",
    "'; DROP TABLE reviews; --",
    '" OR ""="',
    "1; DELETE FROM items",
    "%' --",
    "_%",
]


def login(c: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = c.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return c.post(
        "/login",
        data={"username": name, "password": password, "csrf": token, "next": "/"},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m is not None
    return m.group(1)


def start_review(c: TestClient, project: str = "demo", **filters: str) -> Any:
    """Press "Start reviewing" (POST, leases the first item) and follow to the review page."""
    return c.post(
        f"/projects/{project}/review/next", data={"csrf": csrf_of(c.get("/").text), **filters}
    )


def _concrete(path: str) -> str:
    return (
        path.replace("{project}", "demo")
        .replace("{task_id}", "1")
        .replace("{item_id}", "it0")
        .replace("{name}", "labels")
    )


def test_every_route_refused_without_auth(app_env: dict[str, Any]) -> None:
    app, c = app_env["app"], app_env["client"]
    schema = app.openapi()
    n = 0
    for path, ops in schema["paths"].items():
        for method in ops:
            if path == "/api/login/token":
                continue  # the one open API route
            r = c.request(method.upper(), _concrete(path), json={})
            assert r.status_code == 401, (method, path, r.status_code)
            n += 1
    assert n >= 14
    pages = ["/", "/projects/demo", "/projects/demo/review", "/projects/demo/export/labels.csv"]
    for path in pages:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/"), path
    for path in ["/logout", "/projects/demo/tasks/1/review"]:
        r = c.post(path, data={"choice": "given"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    assert c.get("/healthz").status_code == 200
    assert c.get("/login").status_code == 200


def test_xss_payloads_render_as_text(tmp_path: Path, db_url: str) -> None:
    run = make_audit_run(tmp_path / "xss", n=6, texts=[XSS] * 6)
    with pytest.raises(InputError, match="project name 'x<b>ss'"):
        import_review(run, "x<b>ss", db=db_url)
    import_review(run, "xss", db=db_url)
    add_user("eve", PASSWORD, db=db_url, projects=["xss"])
    app = create_app(ReviewSettings(db_url=db_url))
    with TestClient(app) as c:
        assert login(c, "eve").status_code == 303
        review = start_review(c, "xss")
        assert review.status_code == 200
        assert "<script>alert" not in review.text and "<img src=x" not in review.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in review.text
        search = c.get("/projects/xss", params={"q": "<script>"})
        assert "<script>alert" not in search.text and "&lt;script&gt;" in search.text
        assert "script-src 'self'" in review.headers["content-security-policy"]
    app.state.db.dispose()


@pytest.mark.parametrize("payload", SQLI)
def test_sql_injection_strings_are_harmless(app_env: dict[str, Any], payload: str) -> None:
    c = app_env["client"]
    h = token_for(c, "alice")
    r = c.get("/api/projects/demo/items", params={"q": payload}, headers=h)
    assert r.status_code == 200 and r.json()["total"] == 0
    for param in ("label", "issue"):
        r = c.get("/api/projects/demo/items", params={param: payload}, headers=h)
        assert r.status_code == 422
    assert c.get(f"/api/projects/{payload}", headers=h).status_code in (404, 405)
    assert (
        c.post("/api/login/token", data={"username": payload, "password": payload}).status_code
        == 401
    )
    assert c.get("/api/projects/demo", headers=h).json()["progress"]["items"] == 30


def test_csrf_required_on_forms(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    # login form without the login CSRF token
    r = c.post("/login", data={"username": "alice", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert login(c, "alice").status_code == 303
    page = start_review(c)
    task = re.search(r"/tasks/(\d+)/review", page.text).group(1)  # type: ignore[union-attr]
    url = f"/projects/demo/tasks/{task}/review"
    assert c.post(url, data={"choice": "given"}, follow_redirects=False).status_code == 403
    assert (
        c.post(url, data={"choice": "given", "csrf": "forged"}, follow_redirects=False).status_code
        == 403
    )
    ok = c.post(
        url,
        data={"choice": "given", "csrf": csrf_of(page.text), "key": "k"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    # API writes with the session cookie need the X-CSRF-Token header
    r = c.post("/api/projects/demo/tasks/next")
    assert r.status_code == 403
    r = c.post("/api/projects/demo/tasks/next", headers={"X-CSRF-Token": csrf_of(page.text)})
    assert r.status_code == 200
    assert c.post("/logout", data={}, follow_redirects=False).status_code == 403


def test_session_cookie_flags_and_forgery(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    r = login(c, "alice")
    cookie = r.headers["set-cookie"]
    assert (
        "tl_session=" in cookie
        and "HttpOnly" in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
    )
    c.cookies.clear()
    c.cookies.set("tl_session", "forged.value.sig")
    assert c.get("/", follow_redirects=False).status_code == 303


def test_login_rate_limited(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    codes = [
        c.post("/api/login/token", data={"username": "bob", "password": "wrong-pass"}).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # even the right password waits now
    r = c.post("/api/login/token", data={"username": "bob", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_open_redirect_refused(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    page = c.get("/login", params={"next": "//evil.example/x"})
    assert 'value="/"' in page.text
    r = c.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf": csrf_of(page.text),
            "next": "https://evil.example",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_reviewer_cannot_use_admin_api(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    h = token_for(c, "alice")
    assert (
        c.post("/api/projects", json={"name": "p", "classes": ["a", "b"]}, headers=h).status_code
        == 403
    )
    assert c.post("/api/projects/demo/items", json=[{"item_id": "z"}], headers=h).status_code == 403
    assert c.get("/api/users", headers=h).status_code == 403


def test_logout_revokes_the_session_cookie(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    login(c, "alice")
    page = c.get("/")
    assert page.status_code == 200
    stolen = c.cookies.get("tl_session")
    assert (
        c.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code
        == 303
    )
    c.cookies.clear()
    c.cookies.set("tl_session", stolen)
    assert c.get("/", follow_redirects=False).status_code == 303  # the old cookie no longer works
    assert c.get("/api/projects").status_code == 401
    assert login(c, "alice").status_code == 303 and c.get("/").status_code == 200
