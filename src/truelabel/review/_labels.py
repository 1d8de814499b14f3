"""What a review label is for each task, and the one check every label passes.

A project's labels are stored as text (``Item.given_label``, ``Review.label`` …), one
canonical spelling per value so that equal decisions compare equal:

``classification``
    a class name.
``multilabel``
    the tags joined by the project's separator, in the project's tag order (the
    empty string is the empty set) — the column ``audit --task multilabel`` and
    ``aggregate --label-type multilabel`` read.
``regression``
    a finite number, written with up to 10 significant digits.
``token``
    a JSON list ``[[start, end, type], …]`` of character spans of the item's text,
    sorted, non-overlapping, ``0 <= start < end <= len(text)``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .._errors import InputError
from .._tasks import check_task

__all__ = [
    "Span",
    "canonical_label",
    "format_number",
    "parse_spans",
    "parse_tags",
    "spans_to_iob",
    "spans_json",
]

#: a character span ``(start, end, type)``, end exclusive
Span = tuple[int, int, str]


def format_number(x: float) -> str:
    """A number as the review stores it: up to 10 significant digits, no trailing zeros."""
    return format(float(x), ".10g")


def parse_tags(value: Any, sep: str) -> list[str]:
    """Tags of a multi-label value: a list as it is, a string split on ``sep``; stripped,
    empty and repeated tags dropped (first kept)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, list | tuple | np.ndarray):
        raw = [str(t) for t in value if t is not None]
    else:
        raw = str(value).split(sep) if sep else [str(value)]
    return list(dict.fromkeys(t.strip() for t in raw if str(t).strip()))


def spans_json(spans: Iterable[Span]) -> str:
    """The canonical text of a span list (sorted by start, end, type)."""
    return json.dumps(
        [[int(a), int(b), str(t)] for a, b, t in sorted(spans)], separators=(",", ":")
    )


def parse_spans(value: Any) -> list[Span]:
    """Spans from a JSON text or a list of ``[start, end, type]`` / ``{start, end, label}``.

    Raises
    ------
    InputError
        Not a list of spans (the message shows the expected shape).
    """
    shape = 'a list of [start, end, "TYPE"] spans, e.g. [[0, 5, "PER"]]'
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InputError(f"spans {value[:60]!r} are not JSON; send {shape}.") from None
    if not isinstance(value, list):
        raise InputError(f"spans must be {shape}; got {type(value).__name__}.")
    out: list[Span] = []
    for sp in value:
        if isinstance(sp, dict):
            sp = [sp.get("start"), sp.get("end"), sp.get("label", sp.get("type"))]
        if (
            not isinstance(sp, list | tuple)
            or len(sp) != 3
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in sp[:2])
            or not isinstance(sp[2], str)
        ):
            raise InputError(f'span {sp!r} is not [start, end, "TYPE"] with integer offsets.')
        out.append((int(sp[0]), int(sp[1]), str(sp[2])))
    return out


def _check_spans(spans: list[Span], text: str, classes: Sequence[str]) -> list[Span]:
    n = len(text)
    for a, b, t in spans:
        if not 0 <= a < b <= n:
            raise InputError(
                f"span [{a}, {b}, {t!r}] is outside the text or empty: offsets need "
                f"0 <= start < end <= {n} (the text's length)."
            )
        if t not in classes:
            raise InputError(f"span type {t!r} is not one of the project's types {list(classes)}.")
    spans = sorted(set(spans))
    for (a0, b0, t0), (a1, b1, t1) in zip(spans, spans[1:], strict=False):
        if a1 < b0:
            raise InputError(
                f"spans [{a0}, {b0}, {t0!r}] and [{a1}, {b1}, {t1!r}] overlap; "
                "remove one or make them adjacent."
            )
    return spans


def canonical_label(
    task: str, value: Any, classes: Sequence[str], *, sep: str = ",", text: str = ""
) -> str:
    """Check a label for a project's task and return its stored spelling.

    Parameters
    ----------
    task : str
        One of :data:`truelabel._tasks.TASKS`.
    value : str, number or list
        The label as sent: a class; tags (joined by ``sep`` or a list); a number (or
        its text); spans (JSON text or a list).
    classes : sequence of str
        The project's classes, tags or entity types (unused for regression).
    sep : str
        The multi-label separator.
    text : str
        The item's text (token task: spans are checked against it).

    Raises
    ------
    InputError
        One line naming the wrong value and what is allowed.
    """
    task = check_task(task)
    if task == "multilabel":
        tags = parse_tags(value, sep)
        unknown = [t for t in tags if t not in classes]
        if unknown:
            raise InputError(
                f"tag {unknown[0]!r} is not one of the project's tags {list(classes)}."
            )
        order = {c: i for i, c in enumerate(classes)}
        return sep.join(sorted(tags, key=order.__getitem__))
    if task == "regression":
        try:
            x = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            x = math.nan
        if not math.isfinite(x):
            raise InputError(
                f"label {str(value)[:40]!r} is not a number; enter a number such as 0.75."
            )
        return format_number(x)
    if task == "token":
        return spans_json(_check_spans(parse_spans(value), text, classes))
    if value not in classes:
        raise InputError(f"label {value!r} is not one of the project's classes {list(classes)}.")
    return str(value)


def spans_to_iob(text: str, spans: Sequence[Span]) -> list[tuple[str, str]]:
    """Whitespace tokens of ``text`` with IOB2 tags from character spans.

    A token is inside the first span it overlaps; the first token inside each span gets
    ``B-``, the next ones ``I-``. Returns ``[(token, tag), …]``.
    """
    out: list[tuple[str, str]] = []
    pos, prev = 0, -1
    order = sorted(spans)
    for tok in text.split():
        a = text.index(tok, pos)
        pos = b = a + len(tok)
        hit = next((k for k, (s0, s1, _) in enumerate(order) if a < s1 and s0 < b), -1)
        if hit < 0:
            out.append((tok, "O"))
        else:
            out.append((tok, f"{'I' if hit == prev else 'B'}-{order[hit][2]}"))
        prev = hit
    return out
