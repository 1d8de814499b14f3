"""The kinds of labels truelabel handles, and the one place each stage looks them up.

A *task* says what a label is: one class per item (``classification``), a set of tags
per item (``multilabel``), a tag per token / entity spans (``token``) or a number
(``regression``). Each stage keeps one registry ``{task: implementation}``
(:class:`TaskRegistry`) and dispatches through it, so adding a task type is one entry
per stage, never a new branch in a command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._errors import InputError

__all__ = ["DEFAULT_TASK", "TASKS", "TaskRegistry", "check_task"]

#: Every task type, in the order the docs list them.
TASKS: tuple[str, ...] = ("classification", "multilabel", "token", "regression")
DEFAULT_TASK = "classification"


def check_task(task: str) -> str:
    """Validate a task name (case-insensitive); return it lower-cased.

    Raises
    ------
    InputError
        Not one of :data:`TASKS`.
    """
    name = str(task).strip().lower()
    if name not in TASKS:
        raise InputError(f"unknown --task {task!r}; use one of {', '.join(TASKS)}.")
    return name


class TaskRegistry:
    """``{task: callable}`` for one stage, with the error for a task it lacks.

    Parameters
    ----------
    stage : str
        The stage's name for messages (``audit``, ``aggregate``, ``train`` …).

    Examples
    --------
    >>> AUDIT = TaskRegistry("audit")
    >>> @AUDIT.register("token")
    ... def audit_tokens(data, **options): ...
    >>> AUDIT.get("token") is audit_tokens
    True
    """

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._impl: dict[str, Callable[..., Any]] = {}

    def register(self, task: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: make ``func`` this stage's implementation of ``task``."""
        name = check_task(task)

        def deco(func: Callable[..., Any]) -> Callable[..., Any]:
            self._impl[name] = func
            return func

        return deco

    def get(self, task: str) -> Callable[..., Any]:
        """The implementation of ``task``; an :class:`InputError` naming the ones there are."""
        name = check_task(task)
        if name not in self._impl:
            have = ", ".join(t for t in TASKS if t in self._impl)
            raise InputError(
                f"`{self.stage} --task {name}` is not available yet; this stage handles: {have}."
            )
        return self._impl[name]

    def tasks(self) -> list[str]:
        """Tasks with an implementation, in :data:`TASKS` order."""
        return [t for t in TASKS if t in self._impl]
