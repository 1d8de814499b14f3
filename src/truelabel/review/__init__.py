"""Human review: a database, a web app and a JSON API; decisions flow back as gold labels.

- ``import_review`` / ``export_review``: run directories in, corrected labels and a
  design-weighted gold source out.
- ``create_app``: the FastAPI app (pages, ``/api``, ``/healthz``), served by ``serve``.
- ``sample_tasks`` / ``inclusion_probabilities``: the review queue's sampling design.
- ``cohen_kappa`` / ``krippendorff_alpha_nominal``: inter-reviewer agreement.

Heavy parts (FastAPI, SQLAlchemy) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Database",
    "ReviewSettings",
    "add_user",
    "build_export",
    "cohen_kappa",
    "create_app",
    "deactivate_user",
    "export_review",
    "import_review",
    "inclusion_probabilities",
    "krippendorff_alpha_nominal",
    "list_users",
    "load_run",
    "reset_password",
    "revoke_user",
    "sample_tasks",
    "serve",
    "set_members",
]

_LAZY = {
    "Database": ".db",
    "ReviewSettings": ".config",
    "add_user": "._api",
    "build_export": "._export",
    "cohen_kappa": "._agreement",
    "create_app": ".main",
    "deactivate_user": "._api",
    "export_review": "._api",
    "import_review": "._api",
    "inclusion_probabilities": "._design",
    "krippendorff_alpha_nominal": "._agreement",
    "list_users": "._api",
    "load_run": "._runs",
    "reset_password": "._api",
    "revoke_user": "._api",
    "sample_tasks": "._design",
    "serve": "._api",
    "set_members": "._api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'truelabel.review' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
