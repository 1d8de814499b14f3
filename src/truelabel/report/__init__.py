"""HTML reports and plots (self-contained pages with embedded figures).

Imported on first use (PEP 562): the audit report needs jinja2 and matplotlib, the
aggregate report only the inline SVG helpers of ``_svg``.
"""

from __future__ import annotations

from typing import Any

_LAZY: dict[str, str] = {
    "bar_chart": "._plots",
    "fig_to_data_uri": "._plots",
    "heatmap": "._plots",
    "histogram": "._plots",
    "render_audit_report": "._audit_report",
    "template_env": "._audit_report",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'truelabel.report' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
