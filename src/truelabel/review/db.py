"""Engines, migrations, transactions and retries.

SQLite: one file (``sqlite:///truelabel.db``), WAL journal, ``BEGIN IMMEDIATE``
for every transaction so that reading a task and leasing it cannot interleave
with another writer; a busy timeout plus :func:`write_retry` rides out locks.
PostgreSQL: rows are locked with ``SELECT … FOR UPDATE``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from .._errors import InputError, ServiceError
from .config import normalize_db_url

__all__ = ["Database", "is_transient", "write_retry"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

_TRANSIENT_MARKERS = (
    "database is locked",
    "database table is locked",
    "could not serialize",
    "deadlock detected",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "connection timeout",
    "disk i/o error",
)


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is worth retrying (lock, serialization, lost connection)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    text = str(exc).lower()
    return any(m in text for m in _TRANSIENT_MARKERS)


def write_retry(
    attempts: int = 5, base_delay: float = 0.05
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Retry a whole transaction on transient database errors, then raise ``ServiceError``.

    The wrapped function must run its own transaction (it is re-run from scratch),
    so a retried write is either fully stored once or not at all.
    """

    def deco(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            for i in range(attempts):
                try:
                    return fn(*args, **kwargs)
                except (OperationalError, DBAPIError) as exc:
                    if not is_transient(exc):
                        raise
                    if i == attempts - 1:
                        raise ServiceError(
                            f"the review database is busy or unreachable ({exc.orig!r}); "
                            f"gave up after {attempts} attempts. Nothing was saved by this "
                            "request: retry it, and check the --db server if this persists."
                        ) from exc
                    delay = base_delay * (2**i)
                    log.warning(
                        "database busy (%s); retry %d/%d in %.2fs", exc.orig, i + 1, attempts, delay
                    )
                    time.sleep(delay)
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return deco


def _alembic_config() -> Config:
    here = resources.files("truelabel.review")
    cfg = Config(str(Path(str(here)) / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(str(here)) / "migrations"))
    return cfg


class Database:
    """One database: an engine, a session factory and the schema migrations.

    Parameters
    ----------
    url : str, optional
        ``--db`` value: a SQLAlchemy URL or a SQLite file path; default
        ``sqlite:///truelabel.db``.
    retries : int
        Attempts of a write transaction on lock/connection errors.
    busy_timeout : float
        Seconds SQLite waits for a lock before reporting "database is locked".
    """

    def __init__(
        self, url: str | None = None, *, retries: int = 5, busy_timeout: float = 30.0
    ) -> None:
        self.url = normalize_db_url(url)
        self.retries = retries
        self.is_sqlite = self.url.startswith("sqlite")
        self.busy_timeout = busy_timeout
        try:
            if self.is_sqlite:
                self.engine = create_engine(
                    self.url, connect_args={"timeout": busy_timeout, "check_same_thread": False}
                )
                _sqlite_pragmas(self.engine, int(busy_timeout * 1000))
            else:
                self.engine = create_engine(
                    self.url, pool_pre_ping=True, pool_size=10, max_overflow=20
                )
        except Exception as exc:  # bad URL, missing driver
            raise InputError(
                f"--db {url!r}: cannot open this database URL ({exc}); use a SQLite path "
                "like truelabel.db or postgresql://user:pass@host:5432/dbname."
            ) from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # reads take no write lock on SQLite (deferred BEGIN; WAL readers never wait for writers)
        self._readers = sessionmaker(
            self.engine.execution_options(tl_read=True), expire_on_commit=False
        )

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        cfg = _alembic_config()
        engine = self.engine
        if self.is_sqlite:
            # table rebuilds (batch migrations) must not fire ON DELETE CASCADE: foreign keys
            # are off on the migration's own connection and checked once it is done
            engine = create_engine(
                self.url, poolclass=NullPool, connect_args={"timeout": self.busy_timeout}
            )
            _sqlite_pragmas(engine, int(self.busy_timeout * 1000), foreign_keys=False)
        try:
            with engine.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
                if self.is_sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise ServiceError(
                            f"the review database has broken references after migrating: {broken[:5]}"
                        )
        except OperationalError as exc:
            raise ServiceError(
                f"cannot reach the review database {self.engine.url.render_as_string()!r}: "
                f"{exc.orig}. Start the server or fix --db."
            ) from exc
        except DatabaseError as exc:  # e.g. SQLite "file is not a database"
            raise InputError(
                f"--db {self.engine.url.render_as_string()!r} is not a database truelabel can "
                f"use ({exc.orig}); pass a new file name or the database of an earlier "
                "`truelabel review import`."
            ) from None
        finally:
            if engine is not self.engine:
                engine.dispose()

    def is_current(self) -> bool:
        """Whether the schema exists (the ``alembic_version`` table is present)."""
        return inspect(self.engine).has_table("alembic_version")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads: one snapshot, no write lock; lock/connection errors become ``ServiceError``."""
        try:
            with self._readers() as s, s.begin():
                yield s
        except (OperationalError, DBAPIError) as exc:
            if not is_transient(exc):
                raise
            raise ServiceError(
                f"the review database is busy or unreachable ({exc.orig!r}); retry, and check the "
                "--db server if this persists."
            ) from exc

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args, **kwargs)`` in one transaction, retried when transient."""

        @write_retry(self.retries)
        def attempt() -> T:
            with self.session() as s:
                return fn(s, *args, **kwargs)

        return attempt()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(engine: Engine, busy_ms: int, *, foreign_keys: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("tl_read"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
