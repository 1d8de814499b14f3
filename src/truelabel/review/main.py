"""The FastAPI application: JSON API under ``/api``, server-rendered pages, ``/healthz``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .._asgi import BodyLimit
from .._errors import InputError, ServiceError
from . import crud
from .api.deps import ApiUser, LoginRequired
from .api.routes import items, login, projects, tasks, users
from .config import ReviewSettings
from .db import Database
from .errors import AuthError, ConflictError, NotFoundError, PermissionDenied
from .security import LoginThrottle, SessionSigner

__all__ = ["create_app"]

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds CSP and friends to every HTTP response (pure ASGI, no buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                path = scope.get("path", "")
                extra = list(_SECURITY_HEADERS)
                if not path.startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _too_large(scope: Scope, max_bytes: int) -> tuple[bytes, bytes]:
    """The review server's 413: JSON under ``/api``, plain text for pages."""
    msg = (
        f"the request body is larger than this server accepts ({max_bytes} bytes; "
        "TRUELABEL_MAX_BODY_BYTES or truelabel serve --max-body-mb); nothing was stored. "
        "Send fewer items per request."
    )
    if str(scope.get("path", "")).startswith("/api/"):
        return b"application/json", json.dumps({"detail": msg}).encode()
    return b"text/plain; charset=utf-8", msg.encode()


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: ReviewSettings | None = None, *, db: Database | None = None) -> FastAPI:
    """Build the app for one database (migrated on creation).

    Parameters
    ----------
    settings : ReviewSettings, optional
        Read from the environment when omitted.
    db : Database, optional
        Reuse an open database (tests); else opened from ``settings.db_url``.
    """
    settings = settings or ReviewSettings()
    db = db or Database(
        settings.db_url, retries=settings.db_retries, busy_timeout=settings.db_busy_timeout
    )
    db.migrate()
    secret = settings.secret_key or db.run(crud.get_or_create_secret)

    app = FastAPI(
        title="truelabel review", version="1", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.db = db
    app.state.signer = SessionSigner(secret, max_age_seconds=settings.session_hours * 3600)
    app.state.throttle = LoginThrottle(
        settings.login_attempts,
        settings.login_window_seconds,
        per_client=settings.login_attempts_per_client,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.templates = templates

    for r in (login.router, users.router, projects.router, items.router, tasks.router):
        app.include_router(r, prefix="/api")
    from . import web, web_admin

    app.include_router(web.router)
    app.include_router(web_admin.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    # outermost last: proxy headers -> security headers -> body limit -> app
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, reply=_too_large)
    app.add_middleware(SecurityHeaders)
    if settings.forwarded_allow_ips.strip():
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_schema(_user: ApiUser) -> dict[str, Any]:
        """The OpenAPI schema of ``/api`` (authenticated like the API itself)."""
        return app.openapi()

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def _error(
        request: Request, status: int, msg: str, headers: dict[str, str] | None = None
    ) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": msg}, status_code=status, headers=headers)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "message": msg, "user": None},
            status_code=status,
            headers=headers,
        )

    @app.exception_handler(LoginRequired)
    def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    @app.exception_handler(HTTPException)
    def _http(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(NotFoundError)
    def _nf(request: Request, exc: NotFoundError) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(ConflictError)
    def _conflict(request: Request, exc: ConflictError) -> Response:
        return _error(request, 409, str(exc))

    @app.exception_handler(AuthError)
    def _auth(request: Request, exc: AuthError) -> Response:
        return _error(request, 401, str(exc), {"WWW-Authenticate": "Bearer"})

    @app.exception_handler(PermissionDenied)
    def _perm(request: Request, exc: PermissionDenied) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(InputError)
    def _input(request: Request, exc: InputError) -> Response:
        return _error(request, 422, str(exc))

    @app.exception_handler(ServiceError)
    def _service(request: Request, exc: ServiceError) -> Response:
        log.error("database error: %s", exc)
        return _error(request, 503, str(exc), {"Retry-After": "2"})

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> Response:
        # where and what, never the input itself (it may be huge or hold a password)
        errors = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in exc.errors()]
        if _is_api(request):
            return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
        return _error(
            request,
            422,
            "invalid form input: "
            + "; ".join(f"{e['loc'][-1] if e.get('loc') else ''}: {e.get('msg')}" for e in errors),
        )

    return app
