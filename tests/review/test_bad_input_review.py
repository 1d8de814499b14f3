"""Bad input on the review server (issue 14): each case is refused with a clear status and
message, nothing is stored, and no input is echoed back.

Oversized bodies, bad project names, revoked tokens, deactivated users, non-member access,
forged ``X-Forwarded-For`` and reads that must not lease.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from test_review_security import csrf_of, login
from typer.testing import CliRunner

from review_helpers import PASSWORD, make_audit_run, token_for
from truelabel import InputError
from truelabel.cli import app as cli
from truelabel.review import Database, ReviewSettings, create_app, crud, import_review
from truelabel.review.models import Lease

runner = CliRunner()
MB = 1024 * 1024


def _client(url: str, client: tuple[str, int] = ("203.0.113.7", 5000), **settings: Any) -> Any:
    app = create_app(ReviewSettings(db_url=url, **settings))
    return app, TestClient(app, base_url="http://testserver", client=client)


def _one_line_error(r: Any) -> str:
    """A CLI refusal: exit 2, one line on stderr naming the problem, no traceback."""
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error:"), r.output
    return " ".join(lines)


# --------------------------------------------------------------------------- body size


def test_30mb_body_refused_with_413_and_not_echoed(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    admin = token_for(c, "admin")
    marker = "Z" * 16
    huge = json.dumps([{"item_id": "x", "text": marker + "a" * (30 * MB)}])
    r = c.post(
        "/api/projects/demo/items",
        content=huge,
        headers={**admin, "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert marker not in r.text and len(r.content) < 1000
    assert "larger than this server accepts" in r.json()["detail"]
    # a page form too (the login form is open to anyone)
    r = c.post("/login", data={"username": "a" * (30 * MB), "password": "x"})
    assert r.status_code == 413 and len(r.content) < 1000
    # a chunked body without Content-Length is counted as it arrives
    chunks = (b"[" + b" " * MB for _ in range(6))
    r = c.post(
        "/api/projects/demo/items",
        content=chunks,
        headers={**admin, "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert c.get("/api/projects/demo", headers=admin).json()["progress"]["items"] == 30


def test_body_limit_is_configurable(seeded_url: str) -> None:
    app, c = _client(seeded_url, max_body_bytes=1000)
    with c:
        admin = token_for(c, "admin")
        ok = c.post(
            "/api/projects/demo/items", json=[{"item_id": "new1", "text": "x"}], headers=admin
        )
        assert ok.status_code == 201
        big = c.post(
            "/api/projects/demo/items",
            json=[{"item_id": "new2", "text": "x" * 2000}],
            headers=admin,
        )
        assert big.status_code == 413
    app.state.db.dispose()


def test_validation_errors_do_not_echo_the_input(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    h = token_for(c, "alice")
    t = c.post("/api/projects/demo/tasks/next", headers=h).json()
    secret = "S3CRET" + "n" * 20_000  # a note above the 5000-character limit
    r = c.post(
        f"/api/projects/demo/tasks/{t['task_id']}/reviews",
        json={"action": "other", "label": "pos", "note": secret},
        headers=h,
    )
    assert r.status_code == 422 and "S3CRET" not in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "note"]
    assert c.get("/api/projects/demo/reviews", headers=h).json() == []


# --------------------------------------------------------------------------- project names

BAD_NAMES = [
    "a/b",
    "../etc",
    "..",
    "",
    " lead",
    "trail ",
    "two  spaces",
    "q?x",
    "h#x",
    "pct%2F",
    "x<b>ss",
    "tab\tname",
    "nl\nname",
    "_hidden",
    "x" * 129,
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_project_names_refused(name: str, audit_run: Path, db_url: str) -> None:
    with pytest.raises(InputError, match="project name"):
        import_review(audit_run, name, db=db_url)
    with Database(db_url).reader() as s:
        assert crud.list_projects(s) == []


def test_bad_project_name_cli_and_api(audit_run: Path, tmp_path: Path, app_env: Any) -> None:
    db = str(tmp_path / "cli.db")
    r = runner.invoke(cli, ["review", "import", str(audit_run), "--project", "a/b", "--db", db])
    assert "project name 'a/b'" in _one_line_error(r)
    c = app_env["client"]
    admin = token_for(c, "admin")
    r = c.post("/api/projects", json={"name": "a/b", "classes": ["x", "y"]}, headers=admin)
    assert r.status_code == 422 and "project name" in r.json()["detail"]
    ok = c.post(
        "/api/projects", json={"name": "Süd review 2.0", "classes": ["x", "y"]}, headers=admin
    )
    assert ok.status_code == 201
    assert c.get("/api/projects/Süd review 2.0", headers=admin).status_code == 200


# --------------------------------------------------------------------------- tokens, users


def test_revoked_tokens(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    one, two = token_for(c, "alice"), token_for(c, "alice")
    assert c.post("/api/logout", headers=one).status_code == 204
    assert c.get("/api/users/me", headers=one).status_code == 401  # this token only
    assert c.get("/api/users/me", headers=two).status_code == 200
    # logout everywhere: every token and every browser session
    login(c, "alice")
    assert c.get("/", follow_redirects=False).status_code == 200
    r = c.post("/api/users/me/revoke", headers=two)
    assert r.status_code == 200 and r.json()["tokens_revoked"] == 1
    assert c.get("/api/users/me", headers=two).status_code == 401
    assert c.get("/", follow_redirects=False).status_code == 303
    # by an admin
    three = token_for(c, "bob")
    admin = token_for(c, "admin")
    assert c.post("/api/users/bob/revoke", headers=three).status_code == 403
    assert c.post("/api/users/bob/revoke", headers=admin).json()["tokens_revoked"] == 1
    assert c.get("/api/projects", headers=three).status_code == 401
    assert c.post("/api/users/nobody/revoke", headers=admin).status_code == 404


def test_logout_everywhere_from_the_page(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    tok = token_for(c, "carol")
    login(c, "carol")
    page = c.get("/").text
    r = c.post("/logout", data={"csrf": csrf_of(page), "everywhere": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/users/me", headers=tok).status_code == 401


def test_deactivated_user(app_env: dict[str, Any], seeded_url: str) -> None:
    c = app_env["client"]
    tok = token_for(c, "bob")
    lease = c.post("/api/projects/demo/tasks/next", headers=tok).json()
    login(c, "bob")
    admin = token_for(c, "admin")
    r = c.patch("/api/users/bob", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert c.get("/api/users/me", headers=tok).status_code == 401
    assert c.get("/", follow_redirects=False).status_code == 303
    r = c.post("/api/login/token", data={"username": "bob", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["detail"] == "wrong user name or password"
    with Database(seeded_url).reader() as s:  # the leased item went back to the queue
        assert s.scalars(crud.select(Lease).where(Lease.task_id == lease["task_id"])).all() == []
    # re-activated with a new password: the old one no longer works
    r = c.patch(
        "/api/users/bob", json={"active": True, "password": "a new long one"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["active"] is True
    assert (
        c.post("/api/login/token", data={"username": "bob", "password": PASSWORD}).status_code
        == 401
    )
    assert token_for(c, "bob", "a new long one")
    r = c.patch("/api/users/bob", json={"password": "pw7QxZ"}, headers=admin)
    assert r.status_code == 422 and "pw7QxZ" not in r.text
    r = c.patch("/api/users/admin", json={"active": False}, headers=admin)
    assert r.status_code == 422 and "last active admin" in r.json()["detail"]


def test_users_cli_bad_input(seeded_url: str) -> None:
    db = seeded_url
    r = runner.invoke(cli, ["users", "deactivate", "nobody", "--db", db])
    assert "user 'nobody' does not exist" in _one_line_error(r)
    r = runner.invoke(cli, ["users", "deactivate", "admin", "--db", db])
    assert "last active admin" in _one_line_error(r)
    r = runner.invoke(
        cli, ["users", "reset-password", "alice", "--db", db], env={"TRUELABEL_PASSWORD": "short"}
    )
    assert "at least 8" in _one_line_error(r)
    r = runner.invoke(cli, ["review", "members", "--project", "demo", "--add", "ghost", "--db", db])
    assert "user 'ghost' does not exist" in _one_line_error(r)
    r = runner.invoke(cli, ["review", "members", "--project", "nope", "--db", db])
    assert "project 'nope' does not exist" in _one_line_error(r)
    r = runner.invoke(cli, ["serve", "--port", "99999", "--db", db])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_users_cli_flow(seeded_url: str) -> None:
    db = seeded_url
    r = runner.invoke(cli, ["users", "deactivate", "carol", "--db", db])
    assert r.exit_code == 0 and "deactivated carol" in r.output
    r = runner.invoke(cli, ["users", "list", "--db", db])
    assert r.exit_code == 0, r.output
    row = next(ln for ln in r.output.splitlines() if "carol" in ln)
    assert "reviewer" in row and "no" in row and "demo" in row
    r = runner.invoke(
        cli,
        ["users", "reset-password", "carol", "--db", db],
        env={"TRUELABEL_PASSWORD": "another password"},
    )
    assert r.exit_code == 0 and "revoked" in r.output
    r = runner.invoke(cli, ["users", "activate", "carol", "--db", db])
    assert r.exit_code == 0
    r = runner.invoke(cli, ["users", "revoke", "carol", "--db", db])
    assert r.exit_code == 0 and "logged out everywhere" in r.output
    r = runner.invoke(
        cli, ["review", "members", "--project", "demo", "--remove", "carol", "--db", db]
    )
    assert r.exit_code == 0 and "alice, bob" in r.output and "carol" not in r.output


# --------------------------------------------------------------------------- membership


def test_non_member_sees_nothing(app_env: dict[str, Any], tmp_path: Path) -> None:
    c, url = app_env["client"], app_env["db_url"]
    import_review(make_audit_run(tmp_path / "other", n=5), "other", db=url)
    alice, admin = token_for(c, "alice"), token_for(c, "admin")
    assert [p["name"] for p in c.get("/api/projects", headers=alice).json()] == ["demo"]
    assert [p["name"] for p in c.get("/api/projects", headers=admin).json()] == ["demo", "other"]
    for method, path in [
        ("GET", "/api/projects/other"),
        ("GET", "/api/projects/other/items"),
        ("GET", "/api/projects/other/items/it0"),
        ("GET", "/api/projects/other/stats"),
        ("GET", "/api/projects/other/reviews"),
        ("GET", "/api/projects/other/export/gold"),
        ("POST", "/api/projects/other/tasks/next"),
        ("POST", "/api/projects/other/tasks/1/reviews"),
        ("DELETE", "/api/projects/other/tasks/1/lease"),
    ]:
        body = {"action": "given"} if method == "POST" else None
        r = c.request(method, path, headers=alice, json=body)
        assert r.status_code == 404, (method, path, r.status_code)
        assert "not a member" in r.text
    login(c, "alice")
    assert "other" not in c.get("/").text
    for path in ["/projects/other", "/projects/other/review", "/projects/other/export/labels.csv"]:
        assert c.get(path).status_code == 404, path
    r = c.post("/projects/other/review/next", data={"csrf": csrf_of(c.get("/").text)})
    assert r.status_code == 404
    # the admin adds her; then she sees it
    assert c.post("/api/projects/other/members", json={"name": "alice"}, headers=admin).json()[
        "added"
    ]
    assert (
        c.post("/api/projects/other/members", json={"name": "alice"}, headers=alice).status_code
        == 403
    )
    assert c.get("/api/projects/other", headers=alice).status_code == 200
    assert c.post("/api/projects/other/tasks/next", headers=alice).status_code == 200
    assert c.delete("/api/projects/other/members/alice", headers=admin).status_code == 204
    assert c.get("/api/projects/other/items", headers=alice).status_code == 404


# --------------------------------------------------------------------------- client address


def _fail(c: TestClient, user: str, **headers: str) -> int:
    r = c.post(
        "/api/login/token", data={"username": user, "password": "wrong-pass"}, headers=headers
    )
    return int(r.status_code)


def test_forged_x_forwarded_for_is_ignored(seeded_url: str) -> None:
    app, stranger = _client(seeded_url, client=("198.51.100.9", 4000))
    _, owner = _client(seeded_url, client=("192.0.2.1", 4001))
    owner.app = app  # same app (same throttle), another client address
    with stranger:
        codes = [_fail(stranger, "alice", **{"X-Forwarded-For": f"10.0.0.{i}"}) for i in range(7)]
        assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]  # a new XFF per try: no bypass
        # the stranger cannot lock alice out: from her own address she logs in
        r = owner.post("/api/login/token", data={"username": "alice", "password": PASSWORD})
        assert r.status_code == 200
        # nor can they spray other names forever from one address
        other = [_fail(stranger, f"user{i}") for i in range(60)]
        assert 429 in other and other.index(429) <= 50
    app.state.db.dispose()


def test_trusted_proxy_forwards_the_client_address(seeded_url: str) -> None:
    app, proxy = _client(seeded_url, client=("10.0.0.2", 4000), forwarded_allow_ips="10.0.0.0/8")
    with proxy:
        codes = [_fail(proxy, "bob", **{"X-Forwarded-For": "198.51.100.9"}) for _ in range(6)]
        assert codes[-1] == 429
        # another client behind the same proxy is a different client
        r = proxy.post(
            "/api/login/token",
            data={"username": "bob", "password": PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.50"},
        )
        assert r.status_code == 200
    app.state.db.dispose()


def test_serve_ignores_proxy_headers_unless_configured() -> None:
    with mock.patch("uvicorn.run") as run, mock.patch("truelabel.review.main.create_app") as mk:
        from truelabel.review import serve

        serve(db="x.db", port=9000)
    assert run.call_args.kwargs["proxy_headers"] is False  # uvicorn would trust 127.0.0.1
    settings = mk.call_args.args[0]
    assert settings.forwarded_allow_ips == "" and settings.max_body_bytes == 4 * MB


# --------------------------------------------------------------------------- reads never lease


def test_get_never_leases(app_env: dict[str, Any]) -> None:
    c, url = app_env["client"], app_env["db_url"]
    login(c, "alice")
    for path in ["/projects/demo/review", "/projects/demo/review?issue=outlier", "/projects/demo"]:
        assert c.get(path).status_code == 200
    c.head("/projects/demo/review")
    with Database(url).reader() as s:
        assert s.scalars(crud.select(Lease)).all() == []
