"""The ``truelabel`` command: thin wrappers that parse options, call the API and print.

Each command group lives in its own module and registers itself on ``app``.
"""

from __future__ import annotations

from ._app import app

# Command modules register themselves on `app` when imported (one line each, sorted).
# fmt: off
# fmt: on

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``truelabel`` console script."""
    app()
