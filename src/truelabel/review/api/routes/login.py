"""``POST /api/login/token``: trade a user name and password for a bearer token (rate-limited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status

from ... import crud
from ...errors import AuthError
from ...models import User
from ...schemas import Token
from ...security import LoginThrottle
from ..deps import DbDep

router = APIRouter(prefix="/login", tags=["login"])


def check_login(request: Request, db: DbDep, username: str, password: str) -> User:
    """Verify credentials under the login throttle (HTTP 429 when exceeded, 401 when wrong)."""
    throttle: LoginThrottle = request.app.state.throttle
    keys = (f"ip:{request.client.host if request.client else '?'}", f"user:{username}")
    wait = throttle.blocked(*keys)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed logins; try again in {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    try:
        with db.reader() as s:
            user = crud.authenticate(s, username, password)
    except AuthError:
        throttle.fail(*keys)
        raise
    throttle.reset(*keys)
    return user


@router.post("/token", response_model=Token)
def login_token(
    request: Request, db: DbDep, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Token:
    """OAuth2-password-style login: form fields ``username`` and ``password``."""
    user = check_login(request, db, username, password)
    return Token(access_token=db.run(lambda s: crud.create_token(s, user)))
