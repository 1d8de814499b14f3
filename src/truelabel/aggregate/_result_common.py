"""Pieces shared by the class and numeric aggregation results (repr and notebook facts)."""

from __future__ import annotations

from typing import Any

__all__ = ["result_facts", "result_repr"]


def result_repr(name: str, s: dict[str, Any], extra: str = "") -> str:
    """``Name(method=..., n_items=..., n_sources=...<extra>)`` of an aggregation result."""
    return (
        f"{name}(method={s.get('method')!r}, n_items={s.get('n_items')}, "
        f"n_sources={s.get('n_sources')}{extra})"
    )


def result_facts(s: dict[str, Any], more: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The notebook facts of an aggregation result: model and counts, ``more``, then notes."""
    return (
        [
            ("label model", f"{s.get('method')} ({s.get('method_reason', '')})"),
            ("items", s.get("n_items")),
            ("sources", s.get("n_sources")),
            ("votes", s.get("n_votes")),
        ]
        + more
        + [("note", n) for n in s.get("notes", [])]
    )
