"""Users: who am I and logging out everywhere; list, create, deactivate, reset password and
revoke access (admin)."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from ... import crud
from ...schemas import RevokedPublic, UserCreate, UserPublic, UserUpdate
from ..deps import AdminUser, ApiUser, DbDep

router = APIRouter(prefix="/users", tags=["users"])


def _public(u: crud.User) -> UserPublic:
    return UserPublic(id=u.id, name=u.name, role=u.role, active=bool(u.active))


@router.get("/me", response_model=UserPublic)
def read_me(user: ApiUser) -> UserPublic:
    return _public(user)


@router.post("/me/revoke", response_model=RevokedPublic)
def revoke_me(db: DbDep, user: ApiUser) -> RevokedPublic:
    """Log out everywhere: every API token (this one included) and browser session stops working."""
    return RevokedPublic(name=user.name, tokens_revoked=db.run(crud.revoke_access, user))


@router.get("", response_model=list[UserPublic])
def list_users(db: DbDep, _admin: AdminUser) -> list[UserPublic]:
    with db.reader() as s:
        return [_public(u) for u in crud.list_users(s)]


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, db: DbDep, admin: AdminUser) -> UserPublic:
    return _public(
        db.run(lambda s: crud.create_user(s, body.name, body.password, body.role, by=admin))
    )


@router.patch("/{name}", response_model=UserPublic)
def update_user(name: str, body: UserUpdate, db: DbDep, admin: AdminUser) -> UserPublic:
    """Deactivate / re-activate (``active``) or set a new ``password`` (both end the user's
    sessions and revoke their tokens)."""

    def tx(s: Session) -> crud.User:
        user = crud.user_by_name(s, name)
        if body.password is not None:
            user = crud.reset_password(s, name, body.password, by=admin)
        if body.active is not None:
            user = crud.set_active(s, name, body.active, by=admin)
        return user

    return _public(db.run(tx))


@router.post("/{name}/revoke", response_model=RevokedPublic)
def revoke_user(name: str, db: DbDep, admin: AdminUser) -> RevokedPublic:
    """End every session and revoke every API token of user ``name``."""
    n = db.run(lambda s: crud.revoke_access(s, crud.user_by_name(s, name), by=admin))
    return RevokedPublic(name=name, tokens_revoked=n)
