"""Errors of the review service; the web layer maps them to HTTP statuses."""

from __future__ import annotations

from .._errors import InputError, TruelabelError

__all__ = ["AuthError", "ConflictError", "NotFoundError", "PermissionDenied"]


class NotFoundError(InputError):
    """A project, item, task or user that does not exist (HTTP 404)."""


class ConflictError(TruelabelError):
    """A write that would overwrite someone else's decision or a taken task (HTTP 409)."""


class AuthError(TruelabelError):
    """Wrong credentials or a missing/expired token (HTTP 401)."""


class PermissionDenied(TruelabelError):
    """The user's role does not allow this (HTTP 403)."""
