"""Functions behind the CLI: import a run, export decisions, add users, serve."""

from __future__ import annotations

import logging
from pathlib import Path

from . import crud
from ._export import ExportResult, export_project
from ._runs import load_run
from .config import ReviewSettings
from .db import Database

__all__ = ["add_user", "export_review", "import_review", "serve"]

log = logging.getLogger(__name__)


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
    seed: int = 0,
    texts: str | Path | None = None,
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
    design, budget, floor, power, seed
        The review queue's sampling design, fixed by the project's first import
        (see :func:`truelabel.review.sample_tasks`).
    overlap : int
        Reviews needed per item for a new project (2+ gives agreement statistics).
    texts : path, optional
        Table with ``item_id, text`` for runs without texts.
    """
    run = load_run(run_dir, texts=texts)
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
            random_state=seed,
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
    name: str, password: str, *, role: str = "reviewer", db: str | None = None
) -> crud.User:
    """Create a user (the first one should be an ``admin``)."""
    database = Database(db)
    try:
        database.migrate()
        return database.run(crud.create_user, name, password, role)
    finally:
        database.dispose()


def serve(
    *, db: str | None = None, host: str = "127.0.0.1", port: int = 8080, workers: int = 1
) -> None:
    """Run the review web app with uvicorn until interrupted."""
    import uvicorn

    from .main import create_app

    settings = ReviewSettings(db_url=db) if db else ReviewSettings()
    app = create_app(settings)
    log.info("serving %s on http://%s:%d", settings.db_url, host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning", workers=workers)
