"""Reading structured LLM answers: tag sets (multi-label) and entity spans.

An LLM asked for JSON does not always give valid JSON, and when it does, the content
is not always true to the input: a tag outside the class list, an entity whose
``start`` offset is off by a few characters (models count characters badly), an entity
copied with different case, or one that is not in the text at all. These functions
turn an answer into what can be trusted and count what was repaired or rejected:

- :func:`match_labels` — a JSON list of class names (or ``{"labels": [...]}``); a name
  differing from a class only in case or whitespace is repaired, any other is rejected.
- :func:`repair_spans` — ``[{"text", "label", "start"}, ...]`` checked against the
  item's text: exact offsets are kept; a wrong offset is repaired by finding the span's
  text (the occurrence nearest the given start, not already taken; case-insensitive as
  a fallback); a span whose text is not in the item, with an unknown label or malformed
  is rejected; overlapping spans are resolved deterministically (earlier start, then
  longer, then first given wins). Every kept span satisfies
  ``text[start:end] == span_text``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SpanCheck", "match_labels", "parse_json_answer", "repair_spans", "salvage_spans"]

#: Reasons a span is rejected, in the order the summary lists them.
REJECT_REASONS = ("malformed", "unknown_label", "not_found", "overlap")


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", str(s).strip().strip("`'\".,;:!*[]()").strip()).casefold()


def parse_json_answer(raw: str | None) -> Any | None:
    """The first JSON value (object or list) in an answer; ``None`` if there is none.

    Code fences and text before the value are skipped, text after it is ignored.
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    dec = json.JSONDecoder()
    for m in re.finditer(r"[\[{]", text):
        try:
            return dec.raw_decode(text, m.start())[0]
        except json.JSONDecodeError:
            continue
    return None


def match_labels(answer: str | None, classes: Sequence[str]) -> tuple[list[str] | None, int, int]:
    """Map a multi-label answer to a subset of ``classes``.

    Accepted: a JSON list of names, or an object with a ``labels`` (or ``categories``)
    list; without JSON, one line of names separated by commas or semicolons. A name is
    matched ignoring case, surrounding quotes/punctuation and repeated whitespace
    (*repaired* when it was not written exactly); any other name is *rejected*.

    Parameters
    ----------
    answer : str or None
    classes : sequence of str, length K

    Returns
    -------
    tags : list of str or None
        Matched classes in class-list order, no duplicates; ``[]`` = the answer says no
        class applies; ``None`` = abstain (no list found, or every name was rejected;
        free text naming no class counts no rejection).
    n_repaired : int
        Names matched only after case/whitespace normalisation.
    n_rejected : int
        Names not in the class list.
    """
    if answer is None:
        return None, 0, 0
    obj = parse_json_answer(answer)
    if isinstance(obj, dict):
        obj = obj.get("labels", obj.get("categories", obj.get("label")))
        if isinstance(obj, str):
            obj = [obj]
    if obj is None and "[" in answer:  # cut off inside the list: its complete names
        tail = answer[answer.index("[") + 1 :]
        obj = [json.loads(m) for m in re.findall(r'"(?:[^"\\]|\\.)*"', tail)] or None
    if isinstance(obj, list):
        items = [str(v) for v in obj if v is not None]
    elif obj is None and answer.strip() and not answer.strip().startswith(("{", "[")):
        items = [p.strip() for p in re.split(r"[,;]", answer.strip().splitlines()[0]) if p.strip()]
    else:
        return None, 0, 0
    index = {_norm(c): c for c in classes}
    exact = set(classes)
    found: set[str] = set()
    n_rep = n_rej = 0
    for it in items:
        hit = index.get(_norm(it))
        if hit is None:
            n_rej += 1
            continue
        n_rep += it not in exact
        found.add(hit)
    if not found and n_rej:  # free text without a class name is no answer, not a tag
        return (None, n_rep, n_rej) if isinstance(obj, list) else (None, 0, 0)
    return [c for c in classes if c in found], n_rep, n_rej


@dataclass
class SpanCheck:
    """Spans of one item after :func:`repair_spans`.

    Attributes
    ----------
    start, end : list of int
        Character offsets of the kept spans (end exclusive), sorted by start.
    label : list of str
        Entity type of each kept span (as written in the entity list).
    text : list of str
        ``item_text[start:end]`` of each kept span.
    n_given : int
        Spans in the answer.
    n_exact, n_repaired : int
        Kept with the given offsets / with offsets found again from the span text.
    rejected : dict of str to int
        Rejected spans per reason (see :data:`REJECT_REASONS`).
    """

    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    n_given: int = 0
    n_exact: int = 0
    n_repaired: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REJECT_REASONS, 0))

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    def to_records(self) -> list[dict[str, Any]]:
        """Kept spans as ``[{"start", "end", "label", "text"}, ...]``."""
        return [
            {"start": s, "end": e, "label": lab, "text": t}
            for s, e, lab, t in zip(self.start, self.end, self.label, self.text, strict=True)
        ]


def _occurrences(text: str, s: str, flags: int) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(s), text, flags)]


def spans_of_answer(obj: Any) -> list[Any] | None:
    """The list of spans in a parsed answer (bare list, or ``entities``/``spans`` field)."""
    if isinstance(obj, dict):
        obj = obj.get("entities", obj.get("spans"))
    return obj if isinstance(obj, list) else None


def salvage_spans(raw: str | None) -> list[Any] | None:
    """The complete span objects of an answer whose JSON is broken (e.g. cut off).

    Every flat ``{...}`` with a ``"text"`` field that parses on its own; ``None`` when
    there is none. They go through :func:`repair_spans` like any other span.
    """
    if not raw:
        return None
    found = []
    for m in re.finditer(r"\{[^{}]*\}", str(raw)):
        try:
            obj = json.loads(m.group())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "text" in obj:
            found.append(obj)
    return found or None


def repair_spans(text: str, spans: Sequence[Any], labels: Sequence[str]) -> SpanCheck:
    """Validate LLM spans against the item text; repair offsets or reject.

    Parameters
    ----------
    text : str
        The item's text.
    spans : sequence
        As the LLM gave them: ``{"text": str, "label": str, "start": int}`` (``start``
        may be missing or wrong; an ``end`` is ignored, the span text decides it).
    labels : sequence of str
        The entity types; a label matching one ignoring case/whitespace is accepted as it.

    Returns
    -------
    SpanCheck
        Kept spans sorted by start, none overlapping, each with
        ``text[start:end] == span text``; counts of exact, repaired and rejected spans.
    """
    out = SpanCheck(n_given=len(spans))
    index = {_norm(c): c for c in labels}
    taken: list[tuple[int, int]] = []
    cand: list[tuple[int, int, int, str]] = []  # (start, end, order, label)

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for order, sp in enumerate(spans):
        if not isinstance(sp, dict) or not isinstance(sp.get("text"), str):
            out.rejected["malformed"] += 1
            continue
        s = sp["text"].strip()
        if not s:
            out.rejected["malformed"] += 1
            continue
        lab = index.get(_norm(str(sp.get("label", ""))))
        if lab is None:
            out.rejected["unknown_label"] += 1
            continue
        given = sp.get("start")
        start = (
            int(given) if isinstance(given, int | float) and not isinstance(given, bool) else None
        )
        if start is not None and start >= 0 and text[start : start + len(s)] == s:
            out.n_exact += 1
            cand.append((start, start + len(s), order, lab))
            taken.append((start, start + len(s)))
            continue
        hit = None
        for flags in (0, re.IGNORECASE):
            occ = _occurrences(text, s, flags)
            if occ:
                ref = start if start is not None else 0
                occ.sort(key=lambda o: (not free(o, o + len(s)), abs(o - ref), o))
                hit = occ[0]
                break
        if hit is None:
            out.rejected["not_found"] += 1
            continue
        out.n_repaired += 1
        cand.append((hit, hit + len(s), order, lab))
        taken.append((hit, hit + len(s)))
    cand.sort(key=lambda c: (c[0], -(c[1] - c[0]), c[2]))
    last_end = -1
    for a, b, _, lab in cand:
        if a < last_end:
            out.rejected["overlap"] += 1
            continue
        out.start.append(a)
        out.end.append(b)
        out.label.append(lab)
        out.text.append(text[a:b])
        last_end = b
    return out
