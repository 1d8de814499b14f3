"""What every report shares: the Jinja environment, the base page and the SVG charts.

``report`` renders nothing about a stage itself: each stage (audit, aggregate, estimate,
label, train, scale) builds its own page from a template in its own package with these
helpers, in one look. Nothing here imports a stage, so there is no import cycle.

Imported on first use (PEP 562), so ``import truelabel`` does not load Jinja.
"""

from __future__ import annotations

from typing import Any

_LAZY: dict[str, str] = {
    "MAX_HEATMAP_CLASSES": "._svg",
    "PALETTE": "._svg",
    "REPORT_ASSETS": "._env",
    "ReportMixin": "._show",
    "ReportWriter": "._env",
    "asset_text": "._env",
    "bar_chart": "._svg",
    "confusion_chart": "._svg",
    "heatmap": "._svg",
    "histogram": "._svg",
    "histogram_counts": "._svg",
    "interval_chart": "._svg",
    "line_chart": "._svg",
    "nice_ticks": "._svg",
    "open_report": "._show",
    "reliability_chart": "._svg",
    "reliability_chart_from_bins": "._svg",
    "render_report": "._env",
    "repr_html": "._show",
    "save_report": "._show",
    "scatter": "._svg",
    "template_env": "._env",
    "top_confusions": "._svg",
    "write_report": "._env",
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
