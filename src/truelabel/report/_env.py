"""The shared Jinja environment of every report, and how a report travels.

Each stage renders its own page from a template in its own package (``audit/templates``,
``aggregate/templates`` …) that extends ``base.html.j2`` here and uses the macros of
``macros.html.j2`` (cards, tables, figures, notes). One look for every run.

How the script and the styles travel: a report is ``report.html`` plus two static files
written next to it, ``report.css`` and ``report.js`` (:func:`write_report`). The page
declares its own Content-Security-Policy (``default-src 'none'; script-src 'self';
style-src 'self'; img-src 'self' data:``), the same rule as the review server's: no
inline script or style, so nothing injected through a label or a text can run. Charts are
inline SVG with presentation attributes only, so they draw without the stylesheet; the
script only adds sorting and searching to the tables. Moved alone, ``report.html`` still
shows every number and chart, unstyled and without the table tools.
"""

from __future__ import annotations

import datetime as _dt
import math
from functools import cache
from importlib import resources
from typing import Any, Protocol

import jinja2
import markupsafe

__all__ = [
    "REPORT_ASSETS",
    "ReportWriter",
    "asset_text",
    "render_report",
    "template_env",
    "write_report",
]

#: the static files every report references, written next to ``report.html``
REPORT_ASSETS = ("report.css", "report.js")
_BASE = "truelabel.report"


class ReportWriter(Protocol):
    """What :func:`write_report` needs: :class:`truelabel.io.RunDir` has it."""

    def write_text(self, name: str, text: str) -> Any: ...


def _num(v: Any, digits: int = 3) -> str:
    """A number for a table cell: ``digits`` significant digits, thousands separated."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return "–"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
        return f"{x:.{max(digits - 1, 1)}e}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _pct(v: Any, digits: int = 1) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def _prob(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(x) else f"{x:.3f}"


def _breakable(v: Any) -> markupsafe.Markup:
    """Escaped text with line-break opportunities after ``_``, ``/`` and ``.`` (class
    names like ``card_payment_wrong_exchange_rate`` wrap between words, not mid-word)."""
    text = str(markupsafe.escape("" if v is None else v))
    for ch in ("_", "/", "."):
        text = text.replace(ch, ch + "<wbr>")
    return markupsafe.Markup(text)


def _sortkey(v: Any) -> str:
    """The raw value a table column sorts by (``data-v``); empty for text cells."""
    if isinstance(v, bool) or v is None:
        return ""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    return repr(x) if math.isfinite(x) else ""


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or v is None:
        return False
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return not isinstance(v, str)


@cache
def template_env(package: str = _BASE) -> jinja2.Environment:
    """The Jinja environment of a stage's report templates.

    Parameters
    ----------
    package : str
        The stage package whose ``templates/`` folder holds its report template
        (e.g. ``"truelabel.audit"``); the base template and macros come from
        ``truelabel.report``. Autoescaping is on; an undefined name is an error.
    """
    loaders: list[jinja2.BaseLoader] = []
    if package != _BASE:
        loaders.append(jinja2.PackageLoader(package, "templates"))
    loaders.append(jinja2.PackageLoader(_BASE, "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["prob"] = _prob
    env.filters["sortkey"] = _sortkey
    env.filters["breakable"] = _breakable
    env.tests["number"] = _is_number
    return env


def render_report(package: str, template: str, **context: Any) -> str:
    """Render a stage's report template to one HTML string.

    Parameters
    ----------
    package : str
        The stage package holding ``templates/<template>``.
    template : str
        Its file name, e.g. ``"audit_report.html.j2"``.
    **context
        The template's variables; ``generated`` (the UTC time) is added.
    """
    context.setdefault("generated", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    return template_env(package).get_template(template).render(**context)


def asset_text(name: str) -> str:
    """The text of a static report file (one of :data:`REPORT_ASSETS`)."""
    if name not in REPORT_ASSETS:
        raise KeyError(name)
    return (resources.files(_BASE) / "static" / name).read_text(encoding="utf-8")


def write_report(run: ReportWriter, html: str, name: str = "report.html") -> None:
    """Write a report page and the static files it references into a run folder."""
    run.write_text(name, html)
    for asset in REPORT_ASSETS:
        run.write_text(asset, asset_text(asset))
