"""The kinds of labels truelabel handles, and the one place each stage looks them up.

A *task* says what a label is: one class per item (``classification``), a set of tags
per item (``multilabel``), a tag per token / entity spans (``token``) or a number
(``regression``). Each stage keeps one registry ``{task: implementation}``
(:class:`TaskRegistry`) and dispatches through it, so adding a task type is one entry
per stage, never a new branch in a command.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._errors import InputError

__all__ = [
    "DEFAULT_TASK",
    "TASKS",
    "TaskRegistry",
    "all_list_literals",
    "check_task",
    "holds_tag_lists",
    "infer_task",
]

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


def all_list_literals(values: list[Any]) -> bool:
    """Whether some value is a non-empty string and every such string reads ``[…]``."""
    strs = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    return bool(strs) and all(v[0] == "[" and v[-1] == "]" for v in strs)


def holds_tag_lists(values: list[Any]) -> bool:
    """Whether a label column holds tag sets as :func:`truelabel.audit.parse_tag_sets` reads them without a
    separator: lists/arrays, or strings that are all list literals (``["a", "b"]``).

    ``values`` are the column's non-missing cells (list of length N); only the first is
    looked at for lists, every string for literals.
    """
    first = values[0] if values else None
    if first is not None and not isinstance(first, str) and hasattr(first, "__len__"):
        return True
    return all_list_literals(values)


#: File name endings that only CoNLL/IOB token files use.
CONLL_SUFFIXES = (".conll", ".conllu", ".iob", ".iob2", ".bio", ".bioes")
#: A CoNLL token line: a token, optional columns, and a tag of a known scheme (or O).
_TOKEN_LINE = re.compile(r"^\S+(?:[ \t]+\S+)*[ \t]+(?:O|[BIESLU]-\S+)$")


def _looks_like_conll(path: Path) -> bool:
    """Whether ``path`` is a CoNLL/IOB file: its name says so, or its first lines do.

    The content test (for ``.txt``, which is also a tab-separated table ending) wants a
    ``-DOCSTART-`` first line, or blank-line separated token lines whose last column is a
    tag (``O``, ``B-PER`` …) for at least 95% of the first 200 non-blank lines.
    """
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(CONLL_SUFFIXES):
        return True
    if not name.endswith(".txt") or not path.is_file():
        return False
    from .io._readers import _head_bytes

    try:
        head = _head_bytes(path).decode("utf-8", errors="replace")
    except OSError:
        return False
    lines = head.splitlines()[:-1] or head.splitlines()  # the last may be cut mid-line
    filled = [ln.strip() for ln in lines if ln.strip()][:200]
    if not filled:
        return False
    if filled[0].split()[0] == "-DOCSTART-":
        return True
    tagged = sum(bool(_TOKEN_LINE.match(ln)) for ln in filled)
    has_blank = any(not ln.strip() for ln in lines)
    return has_blank and tagged >= 0.95 * len(filled)


def infer_task(
    data: Any,
    *,
    label_column: str | None = None,
    spans: Any = None,
    label_sep: str | None = None,
) -> tuple[str, str]:
    """The task the data of a run implies when ``--task`` is not given, and why.

    The one place a command reads the task from the data:

    1. ``spans`` given, or ``data`` a CoNLL/IOB file (``.conll``/``.iob``/``.bio`` …, or a
       ``.txt`` whose lines are ``TOKEN … TAG``) → ``token``;
    2. ``label_sep`` given, or a label column of lists (or list literals such as
       ``["joy", "love"]``) → ``multilabel``;
    3. a label column of numbers that are fractional, or integers too many and too spread
       to be class codes (the rule of ``aggregate --label-type auto``) → ``regression``;
    4. otherwise ``classification``.

    Parameters
    ----------
    data : path or DataFrame
        The command's DATA argument.
    label_column : str, optional
        The label column to read (nothing is read without it).
    spans, label_sep : optional
        The ``--spans`` / ``--label-sep`` options as given.

    Returns
    -------
    (task, reason) : (str, str)
        ``reason`` is empty for the plain default (classification, nothing else seen).
        A file that cannot be read gives ``classification``: the stage itself then names
        the problem.
    """
    if spans is not None:
        return "token", "--spans gives entity spans"
    if isinstance(data, str | Path) and _looks_like_conll(Path(data)):
        return "token", f"{Path(data).name} is a CoNLL/IOB file, a token and its tag per line"
    if label_sep is not None:
        return "multilabel", "--label-sep splits tag sets"
    if not label_column:
        return DEFAULT_TASK, ""
    from .io import read_table

    try:
        col = read_table(data, columns=[label_column])[label_column]
    except (InputError, ValueError, KeyError, OSError):
        return DEFAULT_TASK, ""
    values = col[col.notna()]
    if len(values) == 0:
        return DEFAULT_TASK, ""
    if holds_tag_lists(values.tolist()):
        return "multilabel", f"label column {label_column!r} holds lists of tags"
    from .sources._numeric import detect_label_type

    kind, why = detect_label_type(values)
    if kind == "numeric":
        return "regression", f"label column {label_column!r}: {why}"
    return DEFAULT_TASK, ""
