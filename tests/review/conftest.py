"""Fixtures of the review tests: seeded SQLite files, the app, a PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from review_helpers import PASSWORD, free_port, make_audit_run


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Tests hash with argon2's cheapest profile (the default costs ~1 s here); verification reads
    the parameters from the hash, so servers started by tests stay fast too."""
    from argon2 import PasswordHasher, profiles

    from truelabel.review import security

    mp = pytest.MonkeyPatch()
    mp.setattr(security, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def audit_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One audit run folder per session (read-only; re-importing it is a no-op)."""
    return make_audit_run(tmp_path_factory.mktemp("runs") / "audit")


@pytest.fixture(scope="session")
def _seeded_template(
    audit_run: Path, tmp_path_factory: pytest.TempPathFactory, _cheap_argon2: None
) -> Path:
    """A migrated SQLite file with project 'demo' (30 items) and users admin, alice, bob, carol."""
    import sqlite3

    from truelabel.review import add_user, import_review

    path = tmp_path_factory.mktemp("template") / "seeded.db"
    url = f"sqlite:///{path}"
    import_review(audit_run, "demo", db=url)
    add_user("admin", PASSWORD, role="admin", db=url)
    for name in ("alice", "bob", "carol"):
        add_user(name, PASSWORD, role="reviewer", db=url, projects=["demo"])
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """An empty (not yet migrated) SQLite file."""
    return f"sqlite:///{tmp_path / 'review.db'}"


@pytest.fixture
def seeded_url(_seeded_template: Path, tmp_path: Path) -> str:
    """A private copy of the seeded database (project 'demo', users admin/alice/bob/carol)."""
    import shutil

    dst = tmp_path / "seeded.db"
    shutil.copy(_seeded_template, dst)
    return f"sqlite:///{dst}"


@pytest.fixture
def app_env(seeded_url: str) -> Iterator[dict[str, object]]:
    """The app on a seeded database, with a TestClient."""
    from fastapi.testclient import TestClient

    from truelabel.review import ReviewSettings, create_app

    app = create_app(ReviewSettings(db_url=seeded_url, lease_seconds=600))
    with TestClient(app, base_url="http://testserver") as client:
        yield {"app": app, "client": client, "db_url": seeded_url}
    app.state.db.dispose()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Debian's PostgreSQL: initdb into a temp dir, start on 127.0.0.1:<free port>, stop after.

    Installed by ``scripts/system-deps.sh``; as root the server runs as the ``postgres`` user.
    """
    import glob
    import os
    import shutil
    import subprocess
    import tempfile

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        pytest.skip(
            "PostgreSQL is not installed; run `bash scripts/system-deps.sh` (make test-full does)"
        )
    bindir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="tl-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-w",
        "-t",
        "120",
        "-o",
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200",
        "start",
    )
    try:
        yield {"port": port, "bindir": bindir, "run": run, "counter": [0]}
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: dict[str, object]) -> str:
    """A fresh database on the session's PostgreSQL server."""
    import psycopg

    counter = postgres_server["counter"]
    counter[0] += 1  # type: ignore[index]
    name = f"tl_test_{counter[0]}"  # type: ignore[index]
    port = postgres_server["port"]
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True
    ) as con:
        con.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    return f"postgresql://postgres@127.0.0.1:{port}/{name}"
