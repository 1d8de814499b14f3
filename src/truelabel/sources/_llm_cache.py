"""A SQLite cache of LLM answers, keyed by a hash of (model, prompt, parameters).

Every answer is committed as soon as it arrives, so a crashed run loses nothing it paid
for and a re-run makes no calls. A file written by another cache version, or one that is
not a readable SQLite database, is moved aside (never deleted) and a fresh cache is built;
:attr:`LLMCache.rebuilt` says why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["CACHE_VERSION", "LLMCache", "request_key"]

logger = logging.getLogger(__name__)

#: Bump when the stored record format changes; older files are moved aside and rebuilt.
CACHE_VERSION = "1"


def request_key(model: str, messages: list[dict[str, str]], params: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of (model, messages, params)."""
    blob = json.dumps(
        {"model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class LLMCache:
    """Thread-safe SQLite store ``key -> response JSON``.

    Parameters
    ----------
    path : path or ``":memory:"``
        The SQLite file (created with its folder when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self.rebuilt: str | None = None
        self._lock = threading.Lock()
        self._conn = self._open()

    def _connect(self) -> sqlite3.Connection:
        target = str(self.path) if self.path is not None else ":memory:"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(target, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, model TEXT, "
            "response TEXT NOT NULL, created REAL)"
        )
        row = conn.execute("SELECT v FROM meta WHERE k='version'").fetchone()
        if row is None:
            n = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            if n:
                raise _VersionMismatch("no version stamp")
            conn.execute("INSERT INTO meta VALUES ('version', ?)", (CACHE_VERSION,))
            conn.commit()
        elif row[0] != CACHE_VERSION:
            raise _VersionMismatch(
                f"cache version {row[0]!r}, this truelabel writes {CACHE_VERSION!r}"
            )
        conn.execute("SELECT key, response FROM answers LIMIT 1").fetchall()
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except (sqlite3.DatabaseError, _VersionMismatch) as exc:
            if self.path is None:
                raise
            aside = self.path.with_name(f"{self.path.name}.unusable-{int(time.time())}")
            for suffix in ("", "-wal", "-shm"):
                p = Path(str(self.path) + suffix)
                if p.exists():
                    p.replace(Path(str(aside) + suffix))
            self.rebuilt = (
                f"LLM cache {self.path} could not be used ({exc}); moved it to {aside.name} "
                "and started a fresh cache."
            )
            logger.warning(self.rebuilt)
            return self._connect()

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response for ``key``, or ``None``. An unreadable record is a miss."""
        with self._lock:
            row = self._conn.execute("SELECT response FROM answers WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            out = json.loads(row[0])
        except json.JSONDecodeError:
            return None
        return out if isinstance(out, dict) else None

    def put(self, key: str, model: str, response: dict[str, Any]) -> None:
        """Store (and commit) one response."""
        blob = json.dumps(response, ensure_ascii=False)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                (key, model, blob, time.time()),
            )
            self._conn.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _VersionMismatch(Exception):
    pass
