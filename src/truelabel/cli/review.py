"""``truelabel review import|export|members``, ``truelabel serve`` and
``truelabel users add|list|deactivate|activate|reset-password|revoke``."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._errors import InputError
from ._app import app, console, error_boundary

__all__ = ["review_app", "users_app"]

review_app = typer.Typer(
    help="Human review: import runs, export decisions as gold labels.", no_args_is_help=True
)
users_app = typer.Typer(help="Users of the review web app.", no_args_is_help=True)
app.add_typer(review_app, name="review")
app.add_typer(users_app, name="users")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL or SQLite file (default truelabel.db; postgresql://… for teams)."
    ),
]


class Design(StrEnum):
    census = "census"
    poisson = "poisson"


class Role(StrEnum):
    admin = "admin"
    reviewer = "reviewer"


@review_app.command("import")
def review_import(
    run_dir: Annotated[
        Path, typer.Argument(help="Run folder of truelabel audit, aggregate or label.")
    ],
    project: Annotated[
        str, typer.Option("--project", help="Project to import into (created if new).")
    ],
    db: DbOpt = None,
    design: Annotated[
        Design,
        typer.Option(
            help="Queue design: census = every item, poisson = a sample favouring uncertain items."
        ),
    ] = Design.census,
    budget: Annotated[
        float | None, typer.Option(help="Expected queue size (poisson design).")
    ] = None,
    floor: Annotated[
        float, typer.Option(help="Uniform share of the budget (poisson design).")
    ] = 0.1,
    power: Annotated[
        float,
        typer.Option(help="Exponent on the priority (poisson design); larger = more on the top."),
    ] = 1.0,
    overlap: Annotated[int, typer.Option(help="Reviews per item for a new project.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed of the queue draw.")] = 0,
    texts: Annotated[
        Path | None,
        typer.Option(
            help="Table with item_id,text for runs without texts (span aggregate and label runs)."
        ),
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="classification, multilabel, token or regression; default: the run's task.",
        ),
    ] = None,
) -> None:
    """Import a run into a review project (idempotent; the first run fixes the queue)."""
    from ..review import import_review

    with error_boundary():
        res = import_review(
            run_dir,
            project,
            db=db,
            design=design.value,
            budget=budget,
            floor=floor,
            power=power,
            overlap=overlap,
            random_state=seed,
            texts=texts,
            task=task,
        )
    t = Table(
        title=f"review import → {res.project}"
        + (" (already imported: nothing changed)" if res.already_imported else "")
    )
    for col in ("run", "new items", "updated", "votes", "sources", "queued"):
        t.add_column(col)
    t.add_row(
        res.kind,
        str(res.n_items_new),
        str(res.n_items_updated),
        str(res.n_votes),
        str(res.n_sources),
        str(res.n_tasks),
    )
    console.print(t)


@review_app.command("export")
def review_export(
    project: Annotated[str, typer.Option("--project", help="Project to export.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    db: DbOpt = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-run --out folder.")] = False,
) -> None:
    """Write corrected labels, the reviews as a gold source and reviewer statistics."""
    from ..io import check_out_dir
    from ..review import export_review

    with error_boundary():
        local_db = db if db is None or "://" not in db else None
        if local_db is not None and not Path(local_db or "truelabel.db").is_file():
            raise InputError(
                f"--db {local_db or 'truelabel.db'}: no such database file; pass the --db of "
                "`truelabel review import` (export reads a project, it never creates one)."
            )
        check_out_dir(out, kind="review", inputs=[local_db or "truelabel.db"], overwrite=overwrite)
        res = export_review(project, out, db=db, overwrite=overwrite)
    t = Table(title=f"review export → {res.out}")
    for col in ("items", "reviewed", "changed", "gold rows", "queue complete"):
        t.add_column(col)
    t.add_row(
        str(res.n_items),
        str(res.n_reviewed),
        str(res.n_changed),
        str(res.n_gold),
        "yes" if res.queue_complete else "no",
    )
    console.print(t)
    for w in res.summary.get("warnings", []):
        console.print(f"[yellow]note:[/] {w}", highlight=False)


@review_app.command("members")
def review_members(
    project: Annotated[str, typer.Option("--project", help="Project whose reviewers to change.")],
    add: Annotated[
        list[str] | None, typer.Option("--add", help="User to let review the project (repeat).")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="User to take off the project (repeat).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """List, add or remove the reviewers of a project (admins see every project)."""
    from ..review import set_members

    with error_boundary():
        names = set_members(project, add=add or [], remove=remove or [], db=db)
    console.print(
        f"{project}: {len(names)} reviewer(s): {', '.join(names) if names else '(none)'}",
        highlight=False,
    )


@app.command()
def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Reverse proxies (addresses or networks, comma-separated; '*' = any) whose "
            "X-Forwarded-For is trusted. Default: none, the TCP peer is the client."
        ),
    ] = "",
    max_body_mb: Annotated[
        float,
        typer.Option(help="Largest request body accepted (MiB); larger ones get 413.", min=0.01),
    ] = 4.0,
) -> None:
    """Run the review web app (pages, JSON API under /api, /healthz)."""
    from .._validation import check_listen_address
    from ..review import serve as run_server

    with error_boundary():
        check_listen_address(host, port)
        console.print(f"truelabel review on http://{host}:{port}  (Ctrl+C stops)")
        run_server(
            db=db,
            host=host,
            port=port,
            forwarded_allow_ips=forwarded_allow_ips,
            max_body_mb=max_body_mb,
        )


PasswordEnv = Annotated[
    str,
    typer.Option(
        help="Read the password from this environment variable when set; otherwise prompt."
    ),
]


def _password(env: str) -> str:
    return os.environ.get(env) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[Role, typer.Option(help="admin or reviewer.")] = Role.reviewer,
    project: Annotated[
        list[str] | None,
        typer.Option("--project", help="Project the reviewer may review (repeat)."),
    ] = None,
    db: DbOpt = None,
    password_env: PasswordEnv = "TRUELABEL_PASSWORD",
) -> None:
    """Create a user; the password comes from $TRUELABEL_PASSWORD or a hidden prompt.

    Reviewers see only the projects they are members of (--project here, or
    `truelabel review members`); admins see every project.
    """
    from ..review import add_user

    password = _password(password_env)
    with error_boundary():
        user = add_user(name, password, role=role.value, db=db, projects=project or [])
    console.print(f"created {user.role} [bold]{user.name}[/]")


@users_app.command("list")
def users_list(db: DbOpt = None) -> None:
    """Every user: role, active or not, live API tokens, projects."""
    from ..review import list_users

    with error_boundary():
        rows = list_users(db=db)
    t = Table(title=f"{len(rows)} user(s)")
    for col in ("name", "role", "active", "API tokens", "projects"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["name"],
            r["role"],
            "yes" if r["active"] else "no",
            str(r["n_tokens"]),
            ", ".join(r["projects"]) or "-",
        )
    console.print(t)


@users_app.command("deactivate")
def users_deactivate(
    name: Annotated[str, typer.Argument(help="User name.")], db: DbOpt = None
) -> None:
    """Deactivate a user: they cannot log in, their sessions and tokens stop working, their
    leased items go back to the queue; their decisions stay."""
    from ..review import deactivate_user

    with error_boundary():
        deactivate_user(name, db=db)
    console.print(f"deactivated [bold]{name}[/]")


@users_app.command("activate")
def users_activate(
    name: Annotated[str, typer.Argument(help="User name.")], db: DbOpt = None
) -> None:
    """Let a deactivated user log in again."""
    from ..review import deactivate_user

    with error_boundary():
        deactivate_user(name, db=db, active=True)
    console.print(f"activated [bold]{name}[/]")


@users_app.command("reset-password")
def users_reset_password(
    name: Annotated[str, typer.Argument(help="User name.")],
    db: DbOpt = None,
    password_env: PasswordEnv = "TRUELABEL_PASSWORD",
) -> None:
    """Set a new password ($TRUELABEL_PASSWORD or a prompt); existing sessions and API
    tokens of the user stop working."""
    from ..review import reset_password

    password = _password(password_env)
    with error_boundary():
        reset_password(name, password, db=db)
    console.print(f"new password set for [bold]{name}[/]; their sessions and tokens were revoked")


@users_app.command("revoke")
def users_revoke(name: Annotated[str, typer.Argument(help="User name.")], db: DbOpt = None) -> None:
    """Log a user out everywhere: every browser session and API token stops working."""
    from ..review import revoke_user

    with error_boundary():
        n = revoke_user(name, db=db)
    console.print(f"[bold]{name}[/] logged out everywhere ({n} API token(s) revoked)")
