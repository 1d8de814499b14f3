"""Passwords (argon2), API tokens (SHA-256 at rest), signed sessions, CSRF, login throttling."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = [
    "LoginThrottle",
    "SessionSigner",
    "hash_password",
    "hash_token",
    "new_token",
    "tokens_equal",
    "verify_password",
]

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (salted; parameters stored in the hash)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (constant time in argon2)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh random API token (shown once; only its hash is stored)."""
    return "tl_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class SessionSigner:
    """Sign and verify the session cookie ``{"uid": int, "ep": int, "csrf": str}`` with a max age."""

    def __init__(self, secret: str, *, max_age_seconds: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="truelabel-session")
        self.max_age = max_age_seconds

    def dumps(self, uid: int, epoch: int = 0) -> str:
        """A new signed session for user ``uid`` (issued in ``epoch``) with a fresh CSRF token."""
        return self._s.dumps({"uid": uid, "ep": epoch, "csrf": secrets.token_urlsafe(24)})

    def loads(self, cookie: str | None) -> dict[str, Any] | None:
        """The session payload, or None when missing, forged or expired."""
        if not cookie:
            return None
        try:
            data = self._s.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
            return None
        return data


class LoginThrottle:
    """Failed-login limits per (user name, client address) and per client address.

    A client that fails ``attempts`` times for one user name within the window waits;
    others (the real user, from their own address) are unaffected, so a stranger cannot
    lock a named user out. A client failing ``per_client`` times over any names (password
    spraying) waits as well. Only the client address decides: behind a reverse proxy it
    is the forwarded address only when the proxy is trusted (``--forwarded-allow-ips``).
    """

    _MAX_KEYS = 100_000

    def __init__(self, attempts: int, window_seconds: float, *, per_client: int = 50) -> None:
        self.attempts = attempts
        self.per_client = per_client
        self.window = window_seconds
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, user: str, client: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return (f"pair\0{user}\0{client}", self.attempts), (f"client\0{client}", self.per_client)

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, user: str, client: str) -> float:
        """Seconds ``client`` must wait before trying ``user`` again (0 when allowed)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(user, client):
                q = self._prune(key, now)
                if len(q) >= limit:
                    wait = max(wait, self.window - (now - q[0]))
        return wait

    def fail(self, user: str, client: str) -> None:
        """Record a failed attempt of ``client`` for ``user``."""
        now = time.monotonic()
        with self._lock:
            if len(self._fails) > self._MAX_KEYS:  # forget idle keys (many names sprayed)
                for key in [k for k in self._fails if not self._prune(k, now)]:
                    del self._fails[key]
            for key, _ in self._keys(user, client):
                self._prune(key, now).append(now)

    def reset(self, user: str, client: str) -> None:
        """Forget this pair's failures after a successful login (the client's total stays)."""
        with self._lock:
            self._fails.pop(self._keys(user, client)[0][0], None)
