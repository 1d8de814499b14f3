"""All database access of the review service.

Every function takes a ``Session`` already inside a transaction (see
:meth:`Database.run`, which commits, rolls back and retries) and uses SQLAlchemy
expressions only — no SQL is ever built from strings.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from .._agreement import cohen_kappa, krippendorff_alpha_nominal
from .._errors import InputError
from .._tasks import DEFAULT_TASK, check_task
from . import security
from ._design import sample_tasks
from ._labels import canonical_label
from ._runs import LoadedRun
from .errors import AuthError, ConflictError, NotFoundError
from .models import (
    ApiToken,
    AuditLog,
    Item,
    Lease,
    Meta,
    Project,
    ProjectClass,
    ProjectMember,
    Review,
    Run,
    Source,
    Task,
    User,
    Vote,
    utcnow,
)

__all__ = [
    "ACTIONS",
    "ISSUE_FILTERS",
    "ROLES",
    "ImportResult",
    "BULK_MAX",
    "CURRENT",
    "BulkResult",
    "add_member",
    "authenticate",
    "check_filters",
    "count_decisions",
    "create_project",
    "create_token",
    "create_user",
    "current_decision",
    "decide_many",
    "describe_review",
    "end_sessions",
    "get_item",
    "get_or_create_secret",
    "get_project",
    "get_task",
    "get_user",
    "held_task",
    "import_run",
    "item_texts",
    "item_view",
    "items_by_key",
    "lease_next",
    "list_items",
    "list_members",
    "list_projects",
    "list_reviews",
    "list_users",
    "my_decisions",
    "open_counts",
    "previous_decision",
    "project_progress",
    "project_stats",
    "push_items",
    "release_lease",
    "remove_member",
    "reset_password",
    "revoke_access",
    "revoke_token",
    "reviews_frame",
    "set_active",
    "set_overlap",
    "submit_review",
    "task_id_of",
    "undo_last",
    "user_by_name",
    "user_from_token",
    "users_overview",
    "validate_project_name",
]

log = logging.getLogger(__name__)

ROLES = ("admin", "reviewer")
ACTIONS = ("given", "suggested", "other", "ambiguous", "skip")
ISSUE_FILTERS = ("label_issue", "outlier", "duplicate")
#: a reviewer's current decision on a task (earlier ones were superseded or undone)
CURRENT = Review.superseded_at.is_(None)
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
# words of letters/digits/_.- separated by single spaces, starting with a letter or digit:
# every such name is one URL path segment (no '/', '?', '#', '%', '..' or control characters)
_PROJECT_RE = re.compile(r"^[^\W_][\w.-]*(?: [\w.-]+)*$")


def _log(
    s: Session,
    event: str,
    *,
    user: User | None = None,
    project: Project | None = None,
    **detail: Any,
) -> None:
    s.add(
        AuditLog(
            at=utcnow(),
            user_id=user.id if user else None,
            project_id=project.id if project else None,
            action=event,
            detail=detail,
        )
    )


def _lock(s: Session, stmt: Any) -> Any:
    """``FOR UPDATE`` on PostgreSQL; SQLite transactions are already exclusive (BEGIN IMMEDIATE)."""
    if s.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update()
    return stmt


# --------------------------------------------------------------------------- meta, users, tokens


def get_or_create_secret(s: Session) -> str:
    """The session-signing secret kept in the database (created on first use)."""
    row = s.get(Meta, "secret_key")
    if row is None:
        row = Meta(key="secret_key", value=secrets.token_urlsafe(48))
        s.add(row)
        s.flush()
    return row.value


def create_user(
    s: Session, name: str, password: str, role: str = "reviewer", *, by: User | None = None
) -> User:
    """Create a user with an argon2 password hash.

    Raises
    ------
    InputError
        Bad name, short password, unknown role, or the name is taken.
    """
    if not _NAME_RE.match(name):
        raise InputError(
            f"user name {name!r} must be 1-64 letters, digits or _.@-; pick another name."
        )
    if role not in ROLES:
        raise InputError(
            f"role {role!r} is not one of {list(ROLES)}; pass --role admin or --role reviewer."
        )
    _check_password(name, password)
    if s.scalar(select(User.id).where(User.name == name)) is not None:
        raise InputError(f"user {name!r} already exists; choose another name.")
    user = User(
        name=name,
        role=role,
        password_hash=security.hash_password(password),
        active=True,
        created_at=utcnow(),
    )
    s.add(user)
    s.flush()
    _log(s, "user.create", user=by, name=name, role=role)
    return user


def list_users(s: Session) -> list[User]:
    """Every user, by name."""
    return list(s.scalars(select(User).order_by(User.name)))


def user_by_name(s: Session, name: str) -> User:
    """The user called ``name`` (active or not); ``NotFoundError`` otherwise."""
    user = s.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFoundError(f"user {name!r} does not exist; `truelabel users list` shows who does.")
    return user


def users_overview(s: Session) -> list[dict[str, Any]]:
    """Every user with role, state, live API tokens and projects (admin page, ``users list``)."""
    now = utcnow()
    tokens = dict(
        s.execute(
            select(ApiToken.user_id, func.count())
            .where(
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            )
            .group_by(ApiToken.user_id)
        ).all()
    )
    projects: dict[int, list[str]] = {}
    for uid, pname in s.execute(
        select(ProjectMember.user_id, Project.name)
        .join(Project, ProjectMember.project_id == Project.id)
        .order_by(Project.name)
    ):
        projects.setdefault(uid, []).append(pname)
    return [
        {
            "id": u.id,
            "name": u.name,
            "role": u.role,
            "active": bool(u.active),
            "created_at": u.created_at,
            "n_tokens": int(tokens.get(u.id, 0)),
            "projects": projects.get(u.id, []) if u.role != "admin" else ["(all: admin)"],
        }
        for u in list_users(s)
    ]


def _check_password(name: str, password: str) -> None:
    if len(password) < 8:
        raise InputError(
            f"the password for {name!r} has {len(password)} characters; use at least 8."
        )


def _others_admins(s: Session, user: User) -> int:
    return int(
        s.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.active.is_(True), User.id != user.id)
        )
        or 0
    )


def revoke_access(s: Session, user: User, *, by: User | None = None) -> int:
    """Log ``user`` out everywhere: every session cookie and every API token stops working.

    Returns the number of API tokens revoked.
    """
    s.execute(update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1))
    res = s.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    n = int(getattr(res, "rowcount", 0) or 0)
    _log(s, "user.revoke", user=by or user, name=user.name, tokens=n)
    return n


def revoke_token(s: Session, raw: str) -> bool:
    """Revoke one API token (``POST /api/logout``); True when it was live."""
    res = s.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == security.hash_token(raw), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(res, "rowcount", 0))


def set_active(s: Session, name: str, active: bool, *, by: User | None = None) -> User:
    """Deactivate (or re-activate) a user. Deactivating ends their sessions, revokes their
    tokens and gives their leased items back; their decisions stay.

    Raises
    ------
    InputError
        Deactivating the last active admin (nobody could manage users any more).
    """
    user = user_by_name(s, name)
    if not active and user.role == "admin" and user.active and _others_admins(s, user) == 0:
        raise InputError(
            f"{name!r} is the last active admin; add another admin before deactivating it."
        )
    user.active = active
    if not active:
        revoke_access(s, user, by=by)
        s.execute(delete(Lease).where(Lease.user_id == user.id))
    s.flush()
    _log(s, "user.activate" if active else "user.deactivate", user=by, name=name)
    return user


def reset_password(s: Session, name: str, password: str, *, by: User | None = None) -> User:
    """Set a new password; the user's sessions and API tokens stop working."""
    user = user_by_name(s, name)
    _check_password(name, password)
    user.password_hash = security.hash_password(password)
    revoke_access(s, user, by=by)
    s.flush()
    _log(s, "user.password", user=by, name=name)
    return user


def get_user(s: Session, user_id: int) -> User | None:
    """The active user with this id, or None."""
    user = s.get(User, user_id)
    return user if user is not None and user.active else None


def authenticate(s: Session, name: str, password: str) -> User:
    """The user whose name and password match; ``AuthError`` otherwise (same message either way)."""
    user = s.scalars(select(User).where(User.name == name)).first()
    if (
        user is None
        or not user.active
        or not security.verify_password(user.password_hash, password)
    ):
        raise AuthError("wrong user name or password")
    return user


def end_sessions(s: Session, user: User) -> None:
    """Log ``user`` out everywhere: session cookies issued before now stop working."""
    s.execute(update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1))
    _log(s, "user.logout", user=user)


def create_token(s: Session, user: User, *, name: str = "api", days: int | None = 30) -> str:
    """Create an API token for ``user``; returns the token (only its hash is stored)."""
    raw = security.new_token()
    expires = utcnow() + dt.timedelta(days=days) if days else None
    s.add(
        ApiToken(
            user_id=user.id,
            token_hash=security.hash_token(raw),
            name=name[:64],
            created_at=utcnow(),
            expires_at=expires,
        )
    )
    _log(s, "token.create", user=user, name=name)
    return raw


def user_from_token(s: Session, raw: str) -> User | None:
    """The active user owning this unexpired, unrevoked token, or None."""
    row = s.scalars(select(ApiToken).where(ApiToken.token_hash == security.hash_token(raw))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at < utcnow():
        return None
    return get_user(s, row.user_id)


# --------------------------------------------------------------------------- projects


def _is_member(s: Session, p: Project, user: User) -> bool:
    return (
        s.scalar(
            select(ProjectMember.user_id).where(
                ProjectMember.project_id == p.id, ProjectMember.user_id == user.id
            )
        )
        is not None
    )


def get_project(s: Session, name: str, user: User | None = None) -> Project:
    """The project called ``name``; ``NotFoundError`` otherwise.

    With ``user``: the one place that decides who sees a project. Admins see every
    project, reviewers only those they are members of; for anyone else the project
    does not exist (404, so names of other projects do not leak).
    """
    p = s.scalars(select(Project).where(Project.name == name)).first()
    if p is not None and (user is None or user.role == "admin" or _is_member(s, p, user)):
        return p
    if user is not None and user.role != "admin":
        raise NotFoundError(
            f"project {name!r} does not exist or you are not a member of it; "
            "ask an admin to add you (truelabel review members)."
        )
    raise NotFoundError(
        f"project {name!r} does not exist; import a run with `truelabel review import RUN --project NAME`."
    )


def validate_project_name(name: str) -> str:
    """``name`` if it can be a project name (one URL path segment), else ``InputError``."""
    if not isinstance(name, str) or not 1 <= len(name) <= 128 or not _PROJECT_RE.match(name):
        raise InputError(
            f"project name {name!r} must have 1-128 characters: letters, digits, '_', '.', '-' "
            "and single spaces, starting with a letter or digit (no '/', '?', '#' or '%'); "
            "e.g. banking77-review."
        )
    return name


def list_members(s: Session, project: str) -> list[User]:
    """The reviewers who are members of ``project``, by name."""
    p = get_project(s, project)
    return list(
        s.scalars(
            select(User)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(ProjectMember.project_id == p.id)
            .order_by(User.name)
        )
    )


def add_member(s: Session, project: str, name: str, *, by: User | None = None) -> bool:
    """Let user ``name`` see and review ``project``; False when already a member."""
    p = get_project(s, project)
    user = user_by_name(s, name)
    if _is_member(s, p, user):
        return False
    s.add(ProjectMember(project_id=p.id, user_id=user.id, added_at=utcnow()))
    s.flush()
    _log(s, "member.add", user=by, project=p, name=name)
    return True


def remove_member(s: Session, project: str, name: str, *, by: User | None = None) -> bool:
    """Take ``project`` away from user ``name`` (their decisions stay; leases are released)."""
    p = get_project(s, project)
    user = user_by_name(s, name)
    res = s.execute(
        delete(ProjectMember).where(
            ProjectMember.project_id == p.id, ProjectMember.user_id == user.id
        )
    )
    s.execute(
        delete(Lease).where(
            Lease.user_id == user.id,
            Lease.task_id.in_(select(Task.id).where(Task.project_id == p.id)),
        )
    )
    removed = bool(getattr(res, "rowcount", 0))
    if removed:
        _log(s, "member.remove", user=by, project=p, name=name)
    return removed


def create_project(
    s: Session,
    name: str,
    classes: list[str],
    *,
    overlap: int = 1,
    task: str = DEFAULT_TASK,
    label_sep: str = ",",
    by: User | None = None,
) -> Project:
    """Create an empty project (items can then be pushed through the API).

    ``task`` says what a label is (:mod:`truelabel.review._labels`): classes are the
    classes, the tags (``multilabel``, joined by ``label_sep``) or the entity types
    (``token``); a ``regression`` project has none.
    """
    validate_project_name(name)
    task = check_task(task)
    if s.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise ConflictError(f"project {name!r} already exists.")
    if len(set(classes)) != len(classes):
        raise InputError(f"project {name!r} has repeated classes: {classes}.")
    if task == "regression":
        classes = []
    elif task in ("multilabel", "token"):
        if not classes:
            what = "tags" if task == "multilabel" else "entity types"
            raise InputError(f"a {task} project {name!r} needs its {what}; got none.")
        if task == "multilabel" and (not label_sep or any(label_sep in c for c in classes)):
            raise InputError(
                f"label separator {label_sep!r} is empty or inside a tag name; pick another."
            )
    elif len(classes) < 2:
        raise InputError(f"project {name!r} needs at least two distinct classes; got {classes}.")
    if overlap < 1:
        raise InputError(f"overlap must be >= 1 (reviews per item); got {overlap}.")
    p = Project(
        name=name,
        class_rows=[ProjectClass(name=str(c), position=i) for i, c in enumerate(classes)],
        overlap=overlap,
        design={},
        task=task,
        label_sep=label_sep,
        created_at=utcnow(),
    )
    s.add(p)
    s.flush()
    _log(s, "project.create", user=by, project=p, classes=p.classes, task=task)
    return p


def set_overlap(s: Session, project: str, overlap: int, *, by: User | None = None) -> Project:
    """Change how many reviewers must decide each item; open tasks follow."""
    if overlap < 1:
        raise InputError(f"overlap must be >= 1 (reviews per item); got {overlap}.")
    p = get_project(s, project)
    p.overlap = overlap
    s.execute(update(Task).where(Task.project_id == p.id).values(needed=overlap))
    s.execute(
        update(Task)
        .where(Task.project_id == p.id, Task.n_done >= Task.needed)
        .values(status="done")
    )
    s.execute(
        update(Task).where(Task.project_id == p.id, Task.n_done < Task.needed).values(status="open")
    )
    _log(s, "project.overlap", user=by, project=p, overlap=overlap)
    return p


def project_progress(s: Session, p: Project) -> dict[str, int]:
    """Counts: items, tasks, done/open tasks, decisions, skips."""
    n_items = s.scalar(select(func.count()).select_from(Item).where(Item.project_id == p.id)) or 0
    rows = s.execute(
        select(Task.status, func.count()).where(Task.project_id == p.id).group_by(Task.status)
    ).all()
    by = {str(k): int(v) for k, v in rows}
    acts = s.execute(
        select(Review.action, func.count())
        .where(Review.project_id == p.id, CURRENT)
        .group_by(Review.action)
    ).all()
    a = {str(k): int(v) for k, v in acts}
    return {
        "items": int(n_items),
        "tasks": sum(by.values()),
        "done": by.get("done", 0),
        "open": by.get("open", 0),
        "reviews": sum(v for k, v in a.items() if k != "skip"),
        "skips": a.get("skip", 0),
        "ambiguous": a.get("ambiguous", 0),
    }


def count_decisions(s: Session, p: Project, user: User) -> int:
    """How many decisions (skips excluded) ``user`` made in project ``p``."""
    n = s.scalar(
        select(func.count())
        .select_from(Review)
        .where(
            Review.project_id == p.id, Review.user_id == user.id, Review.action != "skip", CURRENT
        )
    )
    return int(n or 0)


def list_projects(s: Session, user: User | None = None) -> list[tuple[Project, dict[str, int]]]:
    """The projects ``user`` may see (every project for admins or without a user), with progress."""
    stmt = select(Project).order_by(Project.name)
    if user is not None and user.role != "admin":
        stmt = stmt.join(ProjectMember, ProjectMember.project_id == Project.id).where(
            ProjectMember.user_id == user.id
        )
    return [(p, project_progress(s, p)) for p in s.scalars(stmt)]


# --------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    """What ``import_run`` did."""

    project: str
    kind: str
    already_imported: bool
    n_items_new: int
    n_items_updated: int
    n_votes: int
    n_sources: int
    n_tasks: int
    design: dict[str, Any]


def _class_diff(project: list[str], run: list[str]) -> str:
    only_run = [c for c in run if c not in project]
    only_proj = [c for c in project if c not in run]
    return f"only in the run: {only_run}; only in the project: {only_proj}"


def import_run(
    s: Session,
    run: LoadedRun,
    project: str,
    *,
    design: str = "census",
    budget: float | None = None,
    floor: float = 0.1,
    power: float = 1.0,
    overlap: int = 1,
    random_state: int = 0,
    by: User | None = None,
) -> ImportResult:
    """Store a run's items, votes and sources in a project and draw the review queue.

    The first run imported into a project fixes its sampling design (``census``
    or ``poisson``, see :mod:`truelabel.review._design`); later runs update the
    items' scores, votes and sources but never redraw the queue, so the recorded
    sampling probabilities stay those of the one draw. Importing the same run
    twice changes nothing.

    Raises
    ------
    InputError
        The run's classes differ from the project's (the message lists the difference).
    """
    p = s.scalars(select(Project).where(Project.name == project)).first()
    if p is None:
        p = create_project(
            s,
            project,
            run.classes,
            overlap=overlap,
            task=run.task,
            label_sep=run.label_sep,
            by=by,
        )
    elif p.task != run.task:
        raise InputError(
            f"{run.path}: a {run.task} run cannot go into project {project!r}, which reviews "
            f"{p.task} labels; import it into another --project."
        )
    elif set(p.classes) != set(run.classes):
        raise InputError(
            f"{run.path}: its classes {run.classes} differ from project {project!r}'s {p.classes} "
            f"({_class_diff(p.classes, run.classes)}); import it into another --project."
        )
    if s.scalar(select(Run.id).where(Run.project_id == p.id, Run.fingerprint == run.fingerprint)):
        n_tasks = (
            s.scalar(select(func.count()).select_from(Task).where(Task.project_id == p.id)) or 0
        )
        return ImportResult(p.name, run.kind, True, 0, 0, 0, 0, int(n_tasks), dict(p.design))

    existing: dict[str, int] = {}
    from_audit: set[str] = set()
    for key, iid, meta in s.execute(
        select(Item.item_key, Item.id, Item.meta).where(Item.project_id == p.id)
    ):
        existing[key] = iid
        if (meta or {}).get("run") == "audit":
            from_audit.add(key)
    items = run.items
    new_rows: list[dict[str, Any]] = []
    upd_rows: list[dict[str, Any]] = []
    for rec in items.to_dict("records"):
        row = {
            str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()
        }
        row["is_label_issue"] = bool(row["is_label_issue"])
        row["is_outlier"] = bool(row["is_outlier"])
        if row["item_key"] in existing:
            upd = {
                k: v
                for k, v in row.items()
                if v not in (None, "", [], {}) or k in ("is_label_issue", "is_outlier")
            }
            upd["id"] = existing[row["item_key"]]
            upd.pop("item_key", None)
            if "meta" in upd:
                if run.kind == "audit":
                    upd["meta"] = {"run": "audit", **(upd["meta"] or {})}
                else:
                    upd.pop("meta")
            if run.kind != "audit":
                # an aggregate/label run adds votes and sources; it does not replace the audit's view
                keep: tuple[str, ...] = (
                    "given_label",
                    "label_quality",
                    "is_label_issue",
                    "is_outlier",
                    "neighbors",
                    "duplicate_group",
                )
                if row["item_key"] in from_audit:
                    keep += ("suggested_label", "suggested_prob", "probs", "text")
                for k in keep:
                    upd.pop(k, None)
            upd_rows.append(upd)
        else:
            row["project_id"] = p.id
            row["meta"] = {"run": run.kind, **(row.get("meta") or {})}
            new_rows.append(row)
    if new_rows:
        s.execute(insert(Item), new_rows)
    for upd in upd_rows:
        iid = upd.pop("id")
        if upd:
            s.execute(update(Item).where(Item.id == iid).values(**upd))
    ids = dict(s.execute(select(Item.item_key, Item.id).where(Item.project_id == p.id)).all())

    n_sources = 0
    src_ids = dict(s.execute(select(Source.name, Source.id).where(Source.project_id == p.id)).all())
    names: set[str] = set()
    if run.sources is not None:
        names |= set(run.sources["source"])
    if run.votes is not None:
        names |= set(run.votes["source"])
    for name in sorted(names - set(src_ids)):
        src = Source(project_id=p.id, name=name, stats={})
        s.add(src)
        s.flush()
        src_ids[name] = src.id
    if run.sources is not None:
        for rec in run.sources.to_dict("records"):
            q = rec["quality"]
            s.execute(
                update(Source)
                .where(Source.id == src_ids[rec["source"]])
                .values(quality=None if q is None or np.isnan(q) else float(q), stats=rec["stats"])
            )
            n_sources += 1
    n_votes = 0
    if run.votes is not None and len(run.votes):
        v = run.votes[run.votes["item_key"].isin(ids.keys())]
        have = {
            (i, sid): vid
            for i, sid, vid in s.execute(
                select(Vote.item_id, Vote.source_id, Vote.id)
                .join(Item)
                .where(Item.project_id == p.id)
            ).all()
        }
        fresh = []
        for key, src, lab in zip(v["item_key"], v["source"], v["label"], strict=True):
            iid, sid = ids[key], src_ids[src]
            if (iid, sid) in have:
                s.execute(update(Vote).where(Vote.id == have[(iid, sid)]).values(label=lab))
            else:
                fresh.append({"item_id": iid, "source_id": sid, "label": lab})
                have[(iid, sid)] = -1
        if fresh:
            s.execute(insert(Vote), fresh)
        n_votes = len(v)

    n_tasks = s.scalar(select(func.count()).select_from(Task).where(Task.project_id == p.id)) or 0
    if n_tasks == 0 and len(items):
        selected, pi = sample_tasks(
            run.priority,
            design=design,
            budget=budget,
            floor=floor,
            power=power,
            random_state=random_state,
        )
        order = np.argsort(-run.priority, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        keys = items["item_key"].to_numpy()
        rows = [
            {
                "project_id": p.id,
                "item_id": ids[keys[i]],
                "rank": int(rank[i]),
                "priority": float(run.priority[i]),
                "sampling_prob": float(pi[i]),
                "needed": p.overlap,
                "n_done": 0,
                "status": "open",
                "created_at": utcnow(),
            }
            for i in np.flatnonzero(selected)
        ]
        if rows:
            s.execute(insert(Task), rows)
        n_tasks = len(rows)
        p.design = {
            "design": design,
            "budget": budget,
            "floor": floor,
            "power": power,
            "seed": random_state,
            "run": run.fingerprint[:16],
            "run_kind": run.kind,
            "n_items": int(len(items)),
            "n_selected": n_tasks,
            "expected": float(pi.sum()),
            "priority": run.priority_reason,
        }
    s.add(
        Run(
            project_id=p.id,
            kind=run.kind,
            path=str(run.path),
            fingerprint=run.fingerprint,
            n_items=len(items),
            imported_at=utcnow(),
        )
    )
    _log(
        s,
        "run.import",
        user=by,
        project=p,
        kind=run.kind,
        path=str(run.path),
        new=len(new_rows),
        updated=len(upd_rows),
        votes=n_votes,
    )
    return ImportResult(
        p.name,
        run.kind,
        False,
        len(new_rows),
        len(upd_rows),
        n_votes,
        n_sources,
        int(n_tasks),
        dict(p.design),
    )


def push_items(
    s: Session, project: str, items: list[dict[str, Any]], *, by: User | None = None
) -> int:
    """Add items through the API (queued with sampling probability 1, after existing tasks).

    Each dict has ``item_id``, ``text`` and optional ``given_label``,
    ``suggested_label``, ``suggested_prob`` and ``votes`` (source name -> label;
    unknown sources are created). Existing item ids are refused.
    """
    p = get_project(s, project)
    keys = [str(it["item_id"]) for it in items]
    clash = s.scalars(
        select(Item.item_key).where(Item.project_id == p.id, Item.item_key.in_(keys))
    ).first()
    if clash is not None:
        raise ConflictError(f"item {clash!r} already exists in project {project!r}.")
    for it in items:
        text = str(it.get("text", ""))
        for col in ("given_label", "suggested_label"):
            if it.get(col) is not None:
                it[col] = _checked(p, it[col], text, f"item {it['item_id']!r}: {col}")
        for src, lab in (it.get("votes") or {}).items():
            it["votes"][src] = _checked(p, lab, text, f"item {it['item_id']!r}: vote of {src!r}")
    src_ids = dict(s.execute(select(Source.name, Source.id).where(Source.project_id == p.id)).all())
    last = s.scalar(select(func.max(Task.rank)).where(Task.project_id == p.id))
    start = -1 if last is None else int(last)
    for j, it in enumerate(items):
        item = Item(
            project_id=p.id,
            item_key=str(it["item_id"]),
            text=str(it.get("text", "")),
            meta={"run": "api"},
            given_label=it.get("given_label"),
            suggested_label=it.get("suggested_label"),
            suggested_prob=it.get("suggested_prob"),
            probs={},
            neighbors=[],
            is_label_issue=False,
            is_outlier=False,
        )
        s.add(item)
        s.flush()
        for src, lab in (it.get("votes") or {}).items():
            if src not in src_ids:
                row = Source(project_id=p.id, name=str(src)[:255], stats={})
                s.add(row)
                s.flush()
                src_ids[src] = row.id
            s.add(Vote(item_id=item.id, source_id=src_ids[src], label=lab))
        s.add(
            Task(
                project_id=p.id,
                item_id=item.id,
                rank=start + 1 + j,
                priority=0.0,
                sampling_prob=1.0,
                needed=p.overlap,
                n_done=0,
                status="open",
                created_at=utcnow(),
            )
        )
    _log(s, "items.push", user=by, project=p, n=len(items))
    return len(items)


# --------------------------------------------------------------------------- items


def item_texts(s: Session, project: str) -> dict[str, str]:
    """``{item id: text}`` of a project's items."""
    p = get_project(s, project)
    return dict(s.execute(select(Item.item_key, Item.text).where(Item.project_id == p.id)).all())


def get_item(s: Session, project: str, item_key: str) -> Item:
    """One item of a project by its item id."""
    p = get_project(s, project)
    item = s.scalars(select(Item).where(Item.project_id == p.id, Item.item_key == item_key)).first()
    if item is None:
        raise NotFoundError(f"item {item_key!r} is not in project {project!r}.")
    return item


def check_filters(p: Project, label: str | None, issue: str | None) -> None:
    """Refuse an unknown class or issue filter (``InputError`` naming the choices)."""
    _filters(p, label, issue)


def _filters(p: Project, label: str | None, issue: str | None) -> list[Any]:
    conds: list[Any] = []
    if label:
        if label not in p.classes:
            raise InputError(f"class filter {label!r} is not one of {p.classes}.")
        if p.task == "multilabel":
            # an item with several tags matches each of them: sep+tags+sep holds sep+tag+sep
            sep = p.label_sep or ","
            conds.append(
                or_(
                    *(
                        (literal(sep) + col + literal(sep)).contains(
                            sep + label + sep, autoescape=True
                        )
                        for col in (Item.given_label, Item.suggested_label)
                    )
                )
            )
        else:
            conds.append(or_(Item.given_label == label, Item.suggested_label == label))
    if issue:
        if issue not in ISSUE_FILTERS:
            raise InputError(f"issue filter {issue!r} is not one of {list(ISSUE_FILTERS)}.")
        conds.append(
            {
                "label_issue": Item.is_label_issue.is_(True),
                "outlier": Item.is_outlier.is_(True),
                "duplicate": Item.duplicate_group.is_not(None),
            }[issue]
        )
    return conds


def list_items(
    s: Session,
    project: str,
    *,
    q: str | None = None,
    label: str | None = None,
    issue: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Item], int]:
    """Items matching a text search (substring, bound parameter) and filters; with the total."""
    p = get_project(s, project)
    conds = [Item.project_id == p.id, *_filters(p, label, issue)]
    if q:
        conds.append(or_(Item.text.contains(q, autoescape=True), Item.item_key == q))
    total = s.scalar(select(func.count()).select_from(Item).where(*conds)) or 0
    rows = s.scalars(
        select(Item)
        .where(*conds)
        .order_by(Item.id)
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    )
    return list(rows), int(total)


def items_by_key(s: Session, project: str, keys: list[str]) -> list[Item]:
    """The items of ``project`` with these ids, in the order given (unknown ids left out)."""
    p = get_project(s, project)
    got = {
        i.item_key: i
        for i in s.scalars(select(Item).where(Item.project_id == p.id, Item.item_key.in_(keys)))
    }
    return [got[k] for k in keys if k in got]


def task_id_of(s: Session, item: Item) -> int | None:
    """The review task of an item (None when it is not in the queue)."""
    return s.scalar(select(Task.id).where(Task.item_id == item.id))


def item_view(s: Session, item: Item) -> dict[str, Any]:
    """Everything the item page shows: votes with source quality, neighbours with labels, reviews."""
    votes = s.execute(
        select(Source.name, Vote.label, Source.quality)
        .join(Source, Vote.source_id == Source.id)
        .where(Vote.item_id == item.id)
        .order_by(Source.name)
    ).all()
    nb_keys = list(item.neighbors or [])[:10]
    nbs: dict[str, Item] = {}
    if nb_keys:
        nbs = {
            i.item_key: i
            for i in s.scalars(
                select(Item).where(Item.project_id == item.project_id, Item.item_key.in_(nb_keys))
            )
        }
    reviewed = dict(
        s.execute(
            select(Review.item_id, Review.label).where(
                Review.item_id.in_([i.id for i in nbs.values()] or [-1]),
                Review.label.is_not(None),
                CURRENT,
            )
        ).all()
    )
    reviews = s.execute(
        select(User.name, Review.action, Review.label, Review.created_at, Review.superseded_at)
        .join(User, Review.user_id == User.id)
        .where(Review.item_id == item.id)
        .order_by(Review.id)
    ).all()
    return {
        "votes": [{"source": n, "label": lab, "quality": q} for n, lab, q in votes],
        "neighbors": [
            {
                "item_id": k,
                "text": nbs[k].text[:200],
                "label": reviewed.get(nbs[k].id) or nbs[k].given_label or nbs[k].suggested_label,
                "reviewed": nbs[k].id in reviewed,
            }
            for k in nb_keys
            if k in nbs
        ],
        # every decision, earlier (changed or undone) ones marked current=False
        "reviews": [
            {"reviewer": n, "action": a, "label": lab, "at": at, "current": gone is None}
            for n, a, lab, at, gone in reviews
        ],
    }


# --------------------------------------------------------------------------- tasks and reviews


def get_task(s: Session, project: str, task_id: int) -> tuple[Task, Item]:
    """A task of the project with its item."""
    p = get_project(s, project)
    task = s.get(Task, task_id)
    if task is None or task.project_id != p.id:
        raise NotFoundError(f"task {task_id} is not in project {project!r}.")
    item = s.get(Item, task.item_id)
    assert item is not None
    return task, item


def _serialize_user(s: Session, user: User) -> None:
    """Queue this reviewer's concurrent requests one behind the other (PostgreSQL).

    A reviewer with several clients (tabs, scripts) must not renew a lease that a submit
    of theirs is deleting, or lease two items at once: every lease/submit/undo of one
    user first locks that user's row (``FOR UPDATE``), so their transactions run one at
    a time while other reviewers proceed in parallel. Always taken before any task row,
    so the lock order is the same everywhere. SQLite transactions are already exclusive.
    """
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(User.id).where(User.id == user.id).with_for_update())


def _held(s: Session, p: Project, user: User, now: dt.datetime) -> tuple[Task, Lease] | None:
    row = s.execute(
        select(Task, Lease)
        .join(Lease, Lease.task_id == Task.id)
        .where(
            Task.project_id == p.id,
            Lease.user_id == user.id,
            Lease.expires_at > now,
            Task.status == "open",
        )
        .order_by(Lease.expires_at.desc())
    ).first()
    return None if row is None else (row[0], row[1])


def held_task(s: Session, project: str, user: User) -> tuple[Task, Item, dt.datetime] | None:
    """The task ``user`` holds a live lease on in ``project`` (read only: nothing is leased)."""
    p = get_project(s, project, user)
    got = _held(s, p, user, utcnow())
    if got is None:
        return None
    task, lease = got
    item = s.get(Item, task.item_id)
    assert item is not None
    return task, item, lease.expires_at


def lease_next(
    s: Session,
    project: str,
    user: User,
    *,
    lease_seconds: int = 600,
    label: str | None = None,
    issue: str | None = None,
) -> tuple[Task, Item, dt.datetime] | None:
    """Lease the most valuable open task this user has not decided yet (or renew the one held).

    A task is available while ``n_done + active leases of others < needed``.
    Returns ``(task, item, lease expiry)`` or None when the queue is empty.
    """
    p = get_project(s, project, user)
    conds_f = _filters(p, label, issue)
    _serialize_user(s, user)
    now = utcnow()
    until = now + dt.timedelta(seconds=lease_seconds)
    mine = _held(s, p, user, now)
    if mine is not None:
        task, _ = mine
        # a Core UPDATE: no ORM row-count check to trip over (the user lock keeps it current)
        s.execute(
            update(Lease)
            .where(Lease.task_id == task.id, Lease.user_id == user.id)
            .values(expires_at=until)
        )
        item = s.get(Item, task.item_id)
        assert item is not None
        return task, item, until
    s.execute(delete(Lease).where(Lease.user_id == user.id, Lease.expires_at <= now))
    active = (
        select(Lease.task_id.label("task_id"), func.count().label("n"))
        .where(Lease.expires_at > now)
        .group_by(Lease.task_id)
        .subquery()
    )
    # decided or skipped by this user (an undone decision makes the item available again)
    mine_done = select(Review.task_id).where(
        Review.user_id == user.id, Review.project_id == p.id, CURRENT
    )
    is_pg = s.get_bind().dialect.name == "postgresql"
    tried: list[int] = []
    for _ in range(50):
        stmt = (
            select(Task)
            .join(Item, Task.item_id == Item.id)
            .outerjoin(active, active.c.task_id == Task.id)
            .where(
                Task.project_id == p.id,
                Task.status == "open",
                Task.n_done + func.coalesce(active.c.n, 0) < Task.needed,
                Task.id.not_in(mine_done),
                Task.id.not_in(tried or [-1]),
                *conds_f,
            )
            .order_by(Task.rank)
            .limit(1)
        )
        if is_pg:
            # the row lock serialises leasers of one task; SKIP LOCKED sends others elsewhere
            stmt = stmt.with_for_update(of=Task, skip_locked=True)
        cand = s.scalars(stmt).first()
        if cand is None:
            return None
        # Re-count under the row lock with a fresh statement: on PostgreSQL the candidate
        # query's snapshot may predate a lease committed by another reviewer just before.
        s.refresh(cand)
        held = s.scalar(
            select(func.count())
            .select_from(Lease)
            .where(Lease.task_id == cand.id, Lease.expires_at > now)
        )
        if cand.status == "open" and cand.n_done + int(held or 0) < cand.needed:
            s.execute(insert(Lease).values(task_id=cand.id, user_id=user.id, expires_at=until))
            item = s.get(Item, cand.item_id)
            assert item is not None
            return cand, item, until
        tried.append(cand.id)
    return None


def release_lease(s: Session, project: str, task_id: int, user: User) -> bool:
    """Give a leased task back to the queue; True when a lease was released."""
    p = get_project(s, project, user)
    task = s.get(Task, task_id)
    if task is None or task.project_id != p.id:
        raise NotFoundError(f"task {task_id} is not in project {project!r}.")
    res = s.execute(delete(Lease).where(Lease.task_id == task.id, Lease.user_id == user.id))
    return bool(getattr(res, "rowcount", 0))


def _checked(p: Project, value: Any, text: str, where: str) -> str:
    """``value`` in the stored spelling of the project's task; an InputError prefixed by
    ``where`` when it is not a label of the project."""
    try:
        return canonical_label(p.task, value, p.classes, sep=p.label_sep, text=text)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _label_for(action: str, label: Any, item: Item, p: Project) -> str | None:
    if action not in ACTIONS:
        raise InputError(f"action {action!r} is not one of {list(ACTIONS)}.")
    if action == "given":
        if item.given_label is None:
            raise InputError(
                f"item {item.item_key!r} has no given label; pick a class (action 'other')."
            )
        return item.given_label
    if action == "suggested":
        if item.suggested_label is None:
            raise InputError(
                f"item {item.item_key!r} has no suggested label; pick a class (action 'other')."
            )
        return item.suggested_label
    if action == "other":
        if p.task == DEFAULT_TASK:
            if label not in p.classes:
                raise InputError(
                    f"label {label!r} is not one of the project's classes {p.classes}."
                )
            return label
        if label is None:
            raise InputError(f"a {p.task} decision 'other' needs its label.")
        return canonical_label(p.task, label, p.classes, sep=p.label_sep, text=item.text)
    return None


def _counts(action: str | None) -> int:
    """Whether a decision counts towards a task's ``n_done`` (skips and nothing do not)."""
    return int(action is not None and action != "skip")


def _set_done(task: Task, delta: int) -> None:
    task.n_done += delta
    task.status = "done" if task.n_done >= task.needed else "open"


def submit_review(
    s: Session,
    project: str,
    task_id: int,
    user: User,
    *,
    action: str,
    label: Any = None,
    note: str = "",
    flags: list[str] | None = None,
    idempotency_key: str | None = None,
) -> tuple[Review, bool]:
    """Store one reviewer's decision exactly once; a new decision supersedes their old one.

    - The same ``idempotency_key`` (or the same decision again) returns the
      stored review with ``created=False``.
    - A different decision by the same reviewer on the same task is stored as a new
      row; the old row stays (``superseded_at``, ``superseded_by``) and every count,
      export and statistic uses the latest.
    - A first decision (or a skip turned into a decision) with an expired (or no)
      lease is accepted only while the task still needs reviews that nobody else
      holds; otherwise ``ConflictError`` says why.

    Returns
    -------
    (review, created)
    """
    p = get_project(s, project, user)
    _serialize_user(s, user)
    return _decide(
        s,
        p,
        task_id,
        user,
        action=action,
        label=label,
        note=note,
        flags=flags,
        key=(idempotency_key or secrets.token_hex(16))[:64],
    )


def _decide(
    s: Session,
    p: Project,
    task_id: int,
    user: User,
    *,
    action: str,
    label: Any,
    note: str,
    flags: list[str] | None,
    key: str,
) -> tuple[Review, bool]:
    """:func:`submit_review` after the membership check and the user lock."""
    replay = s.scalars(
        select(Review).where(Review.user_id == user.id, Review.idempotency_key == key)
    ).first()
    if replay is not None:
        if replay.task_id != task_id:
            raise ConflictError(
                f"idempotency key {key!r} was already used for task {replay.task_id}; send a new key."
            )
        return replay, False
    task = s.scalars(
        _lock(s, select(Task).where(Task.id == task_id, Task.project_id == p.id))
    ).first()
    if task is None:
        raise NotFoundError(f"task {task_id} is not in project {p.name!r}.")
    item = s.get(Item, task.item_id)
    assert item is not None
    lab = _label_for(action, label, item, p)
    mine = s.scalars(
        select(Review).where(Review.task_id == task.id, Review.user_id == user.id, CURRENT)
    ).first()
    if mine is not None and mine.action == action and mine.label == lab:
        return mine, False
    now = utcnow()
    lease = s.scalars(
        select(Lease).where(Lease.task_id == task.id, Lease.user_id == user.id)
    ).first()
    valid = lease is not None and lease.expires_at > now
    delta = _counts(action) - _counts(mine.action if mine else None)
    if not valid and delta > 0:
        others = (
            s.scalar(
                select(func.count())
                .select_from(Lease)
                .where(Lease.task_id == task.id, Lease.user_id != user.id, Lease.expires_at > now)
            )
            or 0
        )
        if task.n_done + others >= task.needed:
            why = (
                "already has all its reviews"
                if task.n_done >= task.needed
                else "was leased to another reviewer after your lease expired"
            )
            raise ConflictError(
                f"your lease on item {item.item_key!r} expired and the item {why}; your decision "
                "was NOT stored. Open the next item."
            )
    if mine is not None:
        mine.superseded_at = now
        s.flush()  # frees the one-current-decision slot before the new row
    review = Review(
        project_id=p.id,
        task_id=task.id,
        item_id=item.id,
        user_id=user.id,
        action=action,
        label=lab,
        note=(note or "")[:5000],
        flags=list(flags or [])[:20],
        idempotency_key=key,
        lease_expired=not valid,
        created_at=now,
    )
    s.add(review)
    s.flush()
    if mine is not None:
        mine.superseded_by = review.id
    s.execute(delete(Lease).where(Lease.task_id == task.id, Lease.user_id == user.id))
    _set_done(task, delta)
    s.flush()
    _log(
        s,
        "review.change" if mine is not None else "review.submit",
        user=user,
        project=p,
        task=task.id,
        item=item.item_key,
        action=action,
        label=lab,
        lease_expired=not valid,
        **({"previous": mine.id, "was": [mine.action, mine.label]} if mine is not None else {}),
    )
    return review, True


def previous_decision(s: Session, review: Review) -> Review | None:
    """The decision ``review`` replaced, if it changed one."""
    return s.scalars(select(Review).where(Review.superseded_by == review.id)).first()


def current_decision(s: Session, task_id: int, user: User) -> Review | None:
    """``user``'s current decision on a task, if any."""
    return s.scalars(
        select(Review).where(Review.task_id == task_id, Review.user_id == user.id, CURRENT)
    ).first()


def my_decisions(s: Session, user: User, items: list[Item]) -> dict[int, Review]:
    """``user``'s current decision on each of these items (item id -> review), where any."""
    rows = s.scalars(
        select(Review).where(
            Review.user_id == user.id, Review.item_id.in_([i.id for i in items] or [-1]), CURRENT
        )
    )
    return {r.item_id: r for r in rows}


def describe_review(s: Session, project: str, review_id: int, user: User) -> dict[str, Any] | None:
    """``user``'s own decision ``review_id`` in words for the page: item, action, label and
    the decision it replaced (None for anyone else's review)."""
    p = get_project(s, project, user)
    r = s.get(Review, review_id)
    if r is None or r.project_id != p.id or r.user_id != user.id:
        return None
    prev = previous_decision(s, r)
    return {
        "item": s.scalar(select(Item.item_key).where(Item.id == r.item_id)),
        "action": r.action,
        "label": r.label,
        "current": r.superseded_at is None,
        "previous": None if prev is None else {"action": prev.action, "label": prev.label},
    }


def undo_last(
    s: Session, project: str, user: User, *, lease_seconds: int = 600
) -> tuple[Review, Task, Item]:
    """Take back ``user``'s most recent current decision in ``project`` and lease that item
    to them again; it is shown first, the item they held before comes back after it.

    The decision row stays, marked ``superseded_at`` with no successor; pressing undo
    again takes back the decision before it.

    Raises
    ------
    ConflictError
        The user has no decision left to undo here.
    """
    p = get_project(s, project, user)
    _serialize_user(s, user)
    last = s.scalars(
        select(Review)
        .where(Review.project_id == p.id, Review.user_id == user.id, CURRENT)
        .order_by(Review.id.desc())
        .limit(1)
    ).first()
    if last is None:
        raise ConflictError(f"you have no decision in project {p.name!r} left to undo.")
    task = s.scalars(_lock(s, select(Task).where(Task.id == last.task_id))).one()
    item = s.get(Item, task.item_id)
    assert item is not None
    now = utcnow()
    last.superseded_at = now
    _set_done(task, -_counts(last.action))
    # lease it again (the newest lease is the one shown); an item the user already held stays
    # theirs and comes back once this one is decided
    until = now + dt.timedelta(seconds=lease_seconds)
    s.execute(delete(Lease).where(Lease.task_id == task.id, Lease.user_id == user.id))
    s.execute(insert(Lease).values(task_id=task.id, user_id=user.id, expires_at=until))
    s.flush()
    _log(
        s,
        "review.undo",
        user=user,
        project=p,
        task=task.id,
        item=item.item_key,
        review=last.id,
        was=[last.action, last.label],
    )
    return last, task, item


@dataclass
class BulkResult:
    """What :func:`decide_many` did: stored, already so, and refused items by reason."""

    saved: int
    unchanged: int
    refused: dict[str, list[str]]


BULK_MAX = 1000


def decide_many(
    s: Session,
    project: str,
    user: User,
    item_keys: list[str],
    *,
    action: str = "suggested",
    key: str | None = None,
) -> BulkResult:
    """One decision (``suggested`` or ``given``) by ``user`` on many items, in one transaction.

    Each item goes through the same rules as :func:`submit_review` (a changed decision
    supersedes, a full item is refused); items that cannot take the decision are
    listed under the reason. ``key`` makes a repeated request a replay.

    Raises
    ------
    InputError
        Another action, no items, or more than ``BULK_MAX``.
    """
    if action not in ("suggested", "given"):
        raise InputError(f"bulk action {action!r} is not one of ['suggested', 'given'].")
    keys = list(dict.fromkeys(str(k) for k in item_keys))
    if not keys or len(keys) > BULK_MAX:
        raise InputError(
            f"select between 1 and {BULK_MAX} items for a bulk decision; got {len(keys)}."
        )
    p = get_project(s, project, user)
    _serialize_user(s, user)
    col = Item.suggested_label if action == "suggested" else Item.given_label
    found = {
        k: (tid, lab)
        for k, tid, lab in s.execute(
            select(Item.item_key, Task.id, col)
            .join(Task, Task.item_id == Item.id)
            .where(Item.project_id == p.id, Item.item_key.in_(keys))
        ).all()
    }
    prefix = (key or secrets.token_hex(16))[:40]
    res = BulkResult(0, 0, {})
    for k in keys:  # one decision per selected item (at most BULK_MAX)
        tid, lab = found.get(k, (None, None))
        why = (
            "not in the review queue"
            if tid is None
            else (f"no {action} label" if lab is None else None)
        )
        if tid is None or why is not None:
            res.refused.setdefault(str(why), []).append(k)
            continue
        try:
            _, created = _decide(
                s,
                p,
                tid,
                user,
                action=action,
                label=None,
                note="",
                flags=["bulk"],
                key=f"{prefix}:{tid}",
            )
        except ConflictError:
            res.refused.setdefault("already has all its reviews", []).append(k)
            continue
        if created:
            res.saved += 1
        else:
            res.unchanged += 1
    _log(s, "review.bulk", user=user, project=p, action=action, saved=res.saved, n=len(keys))
    return res


def list_reviews(
    s: Session, project: str, *, since_id: int = 0, limit: int = 1000
) -> list[dict[str, Any]]:
    """Every decision of a project in submission order, the log (for tools pulling them).

    Changed and undone decisions are included: ``current`` is False for them,
    ``superseded_by`` names the decision that replaced one (None when it was undone).
    """
    p = get_project(s, project)
    rows = s.execute(
        select(Review, User.name, Item.item_key, Task.sampling_prob)
        .join(User, Review.user_id == User.id)
        .join(Item, Review.item_id == Item.id)
        .join(Task, Review.task_id == Task.id)
        .where(Review.project_id == p.id, Review.id > since_id)
        .order_by(Review.id)
        .limit(max(1, min(limit, 10000)))
    ).all()
    return [
        {
            "id": r.id,
            "task_id": r.task_id,
            "item_id": key,
            "reviewer": name,
            "action": r.action,
            "label": r.label,
            "note": r.note,
            "flags": r.flags,
            "sampling_prob": pi,
            "lease_expired": r.lease_expired,
            "created_at": r.created_at,
            "current": r.superseded_at is None,
            "superseded_at": r.superseded_at,
            "superseded_by": r.superseded_by,
        }
        for r, name, key, pi in rows
    ]


# --------------------------------------------------------------------------- statistics


def reviews_frame(s: Session, p: Project) -> pd.DataFrame:
    """Each reviewer's latest decision per item, as a table (item_id, reviewer, action, label,
    given, suggested, pi, at, note); changed and undone decisions are left out."""
    rows = s.execute(
        select(
            Item.item_key,
            User.name,
            Review.action,
            Review.label,
            Item.given_label,
            Item.suggested_label,
            Task.sampling_prob,
            Review.created_at,
            Review.note,
        )
        .join(User, Review.user_id == User.id)
        .join(Item, Review.item_id == Item.id)
        .join(Task, Review.task_id == Task.id)
        .where(Review.project_id == p.id, CURRENT)
        .order_by(Review.id)
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "item_id",
            "reviewer",
            "action",
            "label",
            "given_label",
            "suggested_label",
            "sampling_prob",
            "reviewed_at",
            "note",
        ],
    )


def _reviewer_table(df: pd.DataFrame) -> pd.DataFrame:
    cols = [
        "reviewer",
        "n_decisions",
        "n_labels",
        "n_ambiguous",
        "n_skips",
        "agree_given",
        "agree_suggested",
        "agree_others",
    ]
    if df.empty:
        return pd.DataFrame(columns=cols)
    lab = df[df["label"].notna()].copy()
    # agreement with the other reviewers of the same item, vectorised over reviews:
    # same = other reviews with this label, peers = other labelled reviews of the item
    same = lab.groupby(["item_id", "label"])["reviewer"].transform("size") - 1
    peers = lab.groupby("item_id")["reviewer"].transform("size") - 1
    lab["agree_others"] = np.where(peers > 0, same / peers.where(peers > 0, 1), np.nan)
    lab["agree_given"] = np.where(
        lab["given_label"].notna(), lab["label"] == lab["given_label"], np.nan
    )
    lab["agree_suggested"] = (lab["label"] == lab["suggested_label"]).astype(float)
    means = lab.groupby("reviewer")[["agree_given", "agree_suggested", "agree_others"]].mean()
    out = []
    for name, g in df.groupby("reviewer", sort=True):  # one row per reviewer (few)
        m = means.loc[name] if name in means.index else None
        out.append(
            {
                "reviewer": name,
                "n_decisions": int((g["action"] != "skip").sum()),
                "n_labels": int(g["label"].notna().sum()),
                "n_ambiguous": int((g["action"] == "ambiguous").sum()),
                "n_skips": int((g["action"] == "skip").sum()),
                **{
                    k: (None if m is None or pd.isna(m[k]) else float(m[k]))
                    for k in ("agree_given", "agree_suggested", "agree_others")
                },
            }
        )
    return pd.DataFrame(out, columns=cols)


def _agreement(df: pd.DataFrame, classes: list[str]) -> dict[str, Any]:
    lab = df[df["label"].notna() & df["label"].isin(classes)]
    code = {c: i for i, c in enumerate(classes)}
    multi = lab.groupby("item_id")["reviewer"].transform("size") >= 2
    lab = lab[multi]
    res: dict[str, Any] = {
        "n_items_multi": int(lab["item_id"].nunique()),
        "krippendorff_alpha": None,
        "cohen_kappa_mean": None,
        "pairs": [],
    }
    if lab.empty:
        return res
    units = pd.factorize(lab["item_id"])[0]
    vals = lab["label"].map(code).to_numpy()
    alpha = krippendorff_alpha_nominal(units, vals, len(classes))
    res["krippendorff_alpha"] = None if np.isnan(alpha) else alpha
    wide = lab.pivot_table(index="item_id", columns="reviewer", values="label", aggfunc="first")
    names = list(wide.columns)
    kappas = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            both = wide[[a, b]].dropna()
            if len(both) == 0:
                continue
            k = cohen_kappa(
                both[a].map(code).to_numpy(), both[b].map(code).to_numpy(), len(classes)
            )
            res["pairs"].append(
                {"a": a, "b": b, "n_items": len(both), "cohen_kappa": None if np.isnan(k) else k}
            )
            if not np.isnan(k):
                kappas.append(k)
    res["cohen_kappa_mean"] = float(np.mean(kappas)) if kappas else None
    return res


def _replaced(s: Session, p: Project) -> dict[str, int]:
    """How many decisions were changed (superseded by a later one) or undone."""
    rows = s.execute(
        select(Review.superseded_by.is_(None), func.count())
        .where(Review.project_id == p.id, Review.superseded_at.is_not(None))
        .group_by(Review.superseded_by.is_(None))
    ).all()
    by = {bool(undone): int(n) for undone, n in rows}
    return {"changed": by.get(False, 0), "undone": by.get(True, 0)}


def project_stats(s: Session, project: str) -> dict[str, Any]:
    """Progress, per-reviewer statistics and inter-reviewer agreement of a project.

    Statistics use each reviewer's latest decision per item (``decisions`` says so and
    counts the earlier ones left out).
    """
    p = get_project(s, project)
    df = reviews_frame(s, p)
    gone = _replaced(s, p)
    return {
        "project": p.name,
        "classes": p.classes,
        "overlap": p.overlap,
        "design": p.design,
        "progress": project_progress(s, p),
        "decisions": {
            "uses": "latest",
            "description": "each reviewer's latest decision per item; "
            f"{gone['changed']} changed and {gone['undone']} undone earlier decisions are "
            "in the log only",
            **gone,
        },
        "reviewers": _reviewer_table(df).to_dict("records"),
        "agreement": _agreement(df, p.classes),
    }


def open_counts(s: Session, p: Project) -> dict[str, int]:
    """Open tasks per class filter (given or suggested label) for the queue page.

    Classification: three grouped queries whatever the number of classes,
    ``#(given = c) + #(suggested = c) - #(given = suggested = c)``. Multi-label: an item
    counts once for each tag of its given or suggested tag set, as the class filter
    matches it (one query grouped by the distinct (given, suggested) pairs).
    """
    base = (
        select(func.count())
        .select_from(Task)
        .join(Item, Task.item_id == Item.id)
        .where(Task.project_id == p.id, Task.status == "open")
    )
    if p.task == "multilabel":
        sep = p.label_sep or ","
        pairs = s.execute(
            base.add_columns(Item.given_label, Item.suggested_label).group_by(
                Item.given_label, Item.suggested_label
            )
        ).all()
        out = dict.fromkeys(p.classes, 0)
        for n, given, sugg in pairs:
            for tag in set((given or "").split(sep)) | set((sugg or "").split(sep)):
                if tag in out:
                    out[tag] += int(n)
        return out

    def by(col: Any, *extra: Any) -> dict[str, int]:
        rows = s.execute(base.add_columns(col).where(col.is_not(None), *extra).group_by(col)).all()
        return {str(k): int(n) for n, k in rows}

    given = by(Item.given_label)
    sugg = by(Item.suggested_label)
    both = by(Item.given_label, Item.given_label == Item.suggested_label)
    return {c: given.get(c, 0) + sugg.get(c, 0) - both.get(c, 0) for c in p.classes}
