"""Users: who am I, list and create (admin)."""

from __future__ import annotations

from fastapi import APIRouter, status

from ... import crud
from ...schemas import UserCreate, UserPublic
from ..deps import AdminUser, ApiUser, DbDep

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserPublic)
def read_me(user: ApiUser) -> UserPublic:
    return UserPublic(id=user.id, name=user.name, role=user.role)


@router.get("", response_model=list[UserPublic])
def list_users(db: DbDep, _admin: AdminUser) -> list[UserPublic]:
    with db.reader() as s:
        return [UserPublic(id=u.id, name=u.name, role=u.role) for u in crud.list_users(s)]


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, db: DbDep, admin: AdminUser) -> UserPublic:
    u = db.run(lambda s: crud.create_user(s, body.name, body.password, body.role, by=admin))
    return UserPublic(id=u.id, name=u.name, role=u.role)
