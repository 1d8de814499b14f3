"""The ``truelabel`` command: thin wrappers that parse options, call the API and print.

Each command group lives in its own module and registers itself on ``app``.
"""

from __future__ import annotations

# Each command module registers itself on `app` when imported (one line each, sorted).
from . import aggregate as _aggregate  # noqa: F401
from . import audit as _audit  # noqa: F401
from . import demo as _demo  # noqa: F401
from . import distill as _distill  # noqa: F401
from . import estimate as _estimate  # noqa: F401
from . import label as _label  # noqa: F401
from . import lf as _lf  # noqa: F401
from . import review as _review  # noqa: F401
from . import scale as _scale  # noqa: F401
from . import taxonomy as _taxonomy  # noqa: F401
from . import train as _train  # noqa: F401
from ._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``truelabel`` console script."""
    app()
