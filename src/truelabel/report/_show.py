"""Reports in a notebook: ``result.report()`` and the compact ``_repr_html_`` of a result."""

from __future__ import annotations

import html
import tempfile
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._env import REPORT_ASSETS, asset_text

__all__ = ["ReportMixin", "open_report", "repr_html", "save_report"]

_REPR_ROWS = 5
_REPR_CELL = 80


def save_report(page: str, path: str | Path) -> Path:
    """Write a report page and its static files; return the page's path.

    Parameters
    ----------
    page : str
        The HTML of a report (``result.report()``).
    path : path
        A folder (created if needed; the page is ``report.html`` in it) or a ``.html``
        file name (``report.css`` and ``report.js`` go next to it).
    """
    p = Path(path)
    target = p if p.suffix.lower() in (".html", ".htm") else p / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    for name in REPORT_ASSETS:
        (target.parent / name).write_text(asset_text(name), encoding="utf-8")
    return target


def open_report(page: str, path: str | Path | None = None) -> Path:
    """Save a report (to ``path``, or a new temporary folder) and open it in a web browser."""
    folder = path if path is not None else tempfile.mkdtemp(prefix="truelabel-report-")
    target = save_report(page, folder)
    webbrowser.open(target.resolve().as_uri())
    return target


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    s = str(v)
    return s if len(s) <= _REPR_CELL else s[: _REPR_CELL - 1] + "…"


def repr_html(
    title: str,
    facts: Sequence[tuple[str, Any]],
    frame: Any = None,
    frame_title: str = "",
    *,
    n_rows: int = _REPR_ROWS,
) -> str:
    """A compact HTML summary for a notebook: a title, a few facts and the top rows.

    Parameters
    ----------
    title : str
    facts : sequence of (name, value)
    frame : DataFrame, optional
        Its first ``n_rows`` rows are shown (long cells shortened).
    frame_title : str
        What the rows are, e.g. "top issues".
    """
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
        f"<td style='text-align:left'>{html.escape(_cell(v))}</td></tr>"
        for k, v in facts
    )
    parts = [
        f"<div class='truelabel-repr'><b>{html.escape(title)}</b>",
        f"<table><tbody>{rows}</tbody></table>",
    ]
    if frame is not None and len(frame):
        top = frame.head(n_rows)
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in top.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in r) + "</tr>"
            for r in top.itertuples(index=False)
        )
        parts.append(
            f"<p>{html.escape(frame_title)} ({min(n_rows, len(frame))} of {len(frame):,} rows)</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
    parts.append(
        "<p><small>The full report: <code>.report()</code> returns its HTML; "
        "<code>.report(path)</code> writes it; <code>.report(open_browser=True)</code> opens "
        "it.</small></p></div>"
    )
    return "".join(parts)


class ReportMixin:
    """``report()`` and a compact ``_repr_html_`` for a stage result.

    A result class implements ``_render_report() -> str`` (its page, rendered by its
    stage with the shared templates), ``_repr_facts()`` (a few ``(name, value)`` pairs)
    and optionally ``_repr_frame() -> (title, DataFrame)``.
    """

    def _render_report(self) -> str:  # pragma: no cover - implemented by each result
        raise NotImplementedError

    def _repr_facts(self) -> list[tuple[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def _repr_frame(self) -> tuple[str, Any]:
        return "", None

    def report(self, path: str | Path | None = None, *, open_browser: bool = False) -> str:
        """The run's HTML report, as the command writes it.

        Parameters
        ----------
        path : path, optional
            Also write it there: a folder (``report.html`` in it) or a ``.html`` file;
            ``report.css`` and ``report.js`` are written next to the page.
        open_browser : bool
            Open it in a web browser (saved to ``path`` or a temporary folder).

        Returns
        -------
        str
            The complete HTML page.
        """
        page = self._render_report()
        if open_browser:
            open_report(page, path)
        elif path is not None:
            save_report(page, path)
        return page

    def _repr_html_(self) -> str:
        title, frame = self._repr_frame()
        return repr_html(type(self).__name__, self._repr_facts(), frame, title)
