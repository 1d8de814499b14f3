"""Exceptions and warnings raised by truelabel.

The tree::

    Exception
    └── TruelabelError               every error truelabel raises on purpose
        ├── InputError (ValueError)  bad data, file, column, option: the message says the fix
        ├── NotFittedError (AttributeError)
        ├── MissingExtraError (ImportError)  an optional dependency is absent: names the extra
        └── ServiceError             an external service (LLM endpoint, database) failed
    UserWarning
    └── ConvergenceWarning           an iterative fit stopped at max_iter

The CLI prints a ``TruelabelError`` as one line and exits with status 2; any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "InputError",
    "MissingExtraError",
    "NotFittedError",
    "ServiceError",
    "TruelabelError",
]


class TruelabelError(Exception):
    """Base class of every error truelabel raises on purpose."""


class InputError(TruelabelError, ValueError):
    """Bad input: the message names what is wrong, where, what was found and the fix."""


class NotFittedError(TruelabelError, AttributeError):
    """An estimator was used before ``fit``."""


class MissingExtraError(TruelabelError, ImportError):
    """A feature needs an optional dependency that is not installed; the message names the extra."""


class ServiceError(TruelabelError):
    """An external service (LLM endpoint, database) failed after retries."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped at ``max_iter`` before reaching ``tol``."""
