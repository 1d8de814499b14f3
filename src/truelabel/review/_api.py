"""Functions behind the CLI: import a run, export decisions, manage users and members, serve."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from . import crud
from ._export import ExportResult, export_project
from ._runs import load_run
from .config import ReviewSettings
from .db import Database

__all__ = [
    "add_user",
    "deactivate_user",
    "export_review",
    "import_review",
    "list_users",
    "reset_password",
    "revoke_user",
    "serve",
    "set_members",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


def _on(db: str | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` in one transaction on a migrated database."""
    database = Database(db)
    try:
        database.migrate()
        return database.run(fn, *args, **kwargs)
    finally:
        database.dispose()


def import_review(
    run_dir: str | Path,
    project: str,
    *,
    db: str | None = None,
    design: str = "census",
    budget: float | None = None,
    floor: float = 0.1,
    power: float = 1.0,
    overlap: int = 1,
    random_state: int = 0,
    texts: str | Path | None = None,
    task: str | None = None,
) -> crud.ImportResult:
    """Import an audit, aggregate or label run into a review project (idempotent).

    Parameters
    ----------
    run_dir : path
        ``--out`` of ``truelabel audit``, ``aggregate`` or ``label``.
    project : str
        Created on first import with the run's classes.
    db : str, optional
        Database URL or SQLite path (default ``truelabel.db``).
    design, budget, floor, power, random_state
        The review queue's sampling design, fixed by the project's first import
        (see :func:`truelabel.review.sample_tasks`).
    overlap : int
        Reviews needed per item for a new project (2+ gives agreement statistics).
    texts : path, optional
        Table with ``item_id, text`` for runs without texts.
    task : str, optional
        ``classification``, ``multilabel``, ``token`` or ``regression``; by default the
        run's own (``run.json``). The project reviews labels of that task.
    """
    run = load_run(run_dir, texts=texts, task=task)
    database = Database(db)
    try:
        database.migrate()
        return database.run(
            crud.import_run,
            run,
            project,
            design=design,
            budget=budget,
            floor=floor,
            power=power,
            overlap=overlap,
            random_state=random_state,
        )
    finally:
        database.dispose()


def export_review(
    project: str, out: str | Path, *, db: str | None = None, overwrite: bool = False
) -> ExportResult:
    """Write corrected labels, the reviews as a gold source and reviewer statistics to ``out``."""
    database = Database(db)
    try:
        database.migrate()
        return export_project(database, project, out, overwrite=overwrite)
    finally:
        database.dispose()


def add_user(
    name: str,
    password: str,
    *,
    role: str = "reviewer",
    db: str | None = None,
    projects: Iterable[str] = (),
) -> crud.User:
    """Create a user (the first one should be an ``admin``), member of ``projects``."""

    def tx(s: Session) -> crud.User:
        user = crud.create_user(s, name, password, role)
        for p in projects:
            crud.add_member(s, p, name)
        return user

    return _on(db, tx)


def list_users(*, db: str | None = None) -> list[dict[str, Any]]:
    """Every user: name, role, active, live API tokens, projects."""
    return _on(db, crud.users_overview)


def deactivate_user(name: str, *, db: str | None = None, active: bool = False) -> crud.User:
    """Deactivate a user (sessions end, tokens are revoked, leased items go back), or
    re-activate one with ``active=True``."""
    return _on(db, crud.set_active, name, active)


def reset_password(name: str, password: str, *, db: str | None = None) -> crud.User:
    """Set a new password; the user's sessions and API tokens stop working."""
    return _on(db, crud.reset_password, name, password)


def revoke_user(name: str, *, db: str | None = None) -> int:
    """Log a user out everywhere (sessions and API tokens); returns the tokens revoked."""
    return _on(db, lambda s: crud.revoke_access(s, crud.user_by_name(s, name)))


def set_members(
    project: str,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    db: str | None = None,
) -> list[str]:
    """Add and remove reviewers of a project; returns the members afterwards."""

    def tx(s: Session) -> list[str]:
        for name in add:
            crud.add_member(s, project, name)
        for name in remove:
            crud.remove_member(s, project, name)
        return [u.name for u in crud.list_members(s, project)]

    return _on(db, tx)


def serve(
    *,
    db: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    forwarded_allow_ips: str | None = None,
    max_body_mb: float | None = None,
) -> None:
    """Run the review web app with uvicorn until interrupted.

    ``forwarded_allow_ips``: reverse proxies whose ``X-Forwarded-For`` is trusted
    (default: none, whatever uvicorn's own default); ``max_body_mb``: request body limit.
    """
    import uvicorn

    from .main import create_app

    overrides: dict[str, Any] = {}
    if db:
        overrides["db_url"] = db
    if forwarded_allow_ips is not None:
        overrides["forwarded_allow_ips"] = forwarded_allow_ips
    if max_body_mb is not None:
        overrides["max_body_bytes"] = int(max_body_mb * 1024 * 1024)
    settings = ReviewSettings(**overrides)
    app = create_app(settings)
    log.info("serving %s on http://%s:%d", settings.db_url, host, port)
    # the app handles proxy headers itself (only from --forwarded-allow-ips); uvicorn's own
    # handling would trust X-Forwarded-For from 127.0.0.1 by default
    uvicorn.run(
        app, host=host, port=port, log_level="warning", workers=workers, proxy_headers=False
    )
