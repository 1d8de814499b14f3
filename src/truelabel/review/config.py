"""Settings of the review service (pydantic-settings; environment prefix ``TRUELABEL_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DB_URL", "ReviewSettings", "normalize_db_url"]

DEFAULT_DB_URL = "sqlite:///truelabel.db"


def normalize_db_url(url: str | None) -> str:
    """Turn a ``--db`` value into a SQLAlchemy URL.

    A bare path (``reviews.db``) becomes a SQLite file URL; ``postgresql://`` is
    routed to the psycopg 3 driver.
    """
    if not url:
        return DEFAULT_DB_URL
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class ReviewSettings(BaseSettings):
    """Everything the web app can be told from the environment.

    Attributes
    ----------
    db_url : str
        SQLAlchemy URL (``TRUELABEL_DB_URL``); ``sqlite:///truelabel.db`` by default.
    secret_key : str or None
        Signs session cookies; when unset a random key is created once and kept in
        the database, so sessions survive restarts.
    lease_seconds : int
        How long a reviewer holds an item before others may take it.
    session_hours : int
        Lifetime of a login session.
    secure_cookies : bool
        Mark cookies ``Secure`` (set it when served over HTTPS).
    login_attempts, login_window_seconds : int
        At most ``login_attempts`` failed logins for one user name from one client
        address within the window; further attempts from that client get HTTP 429
        (the user can still log in from elsewhere).
    login_attempts_per_client : int
        At most this many failed logins from one client address over all user names
        within the window (password spraying).
    forwarded_allow_ips : str
        Comma-separated addresses or networks (``10.0.0.0/8``) of reverse proxies whose
        ``X-Forwarded-For`` / ``X-Forwarded-Proto`` headers are trusted; ``*`` trusts
        every peer. Empty (the default): the headers are ignored and the client
        address is the TCP peer's.
    max_body_bytes : int
        Largest request body accepted on any route (HTTP 413 above it, before the
        body is parsed); 4 MiB by default.
    db_busy_timeout : float
        Seconds a SQLite write waits for a lock before one retry counts as failed.
    db_retries : int
        Attempts for a write when the database is locked or unreachable before the
        request fails with a clear error (503) — the decision is then *not* stored
        and the client is told so.
    """

    model_config = SettingsConfigDict(env_prefix="TRUELABEL_", extra="ignore")

    db_url: str = DEFAULT_DB_URL
    secret_key: str | None = None
    lease_seconds: int = 600
    session_hours: int = 12
    secure_cookies: bool = False
    login_attempts: int = 5
    login_window_seconds: int = 60
    login_attempts_per_client: int = 50
    forwarded_allow_ips: str = ""
    max_body_bytes: int = 4 * 1024 * 1024
    db_retries: int = 5
    db_busy_timeout: float = 30.0
