"""HTML reports and plots (self-contained pages with embedded PNG figures)."""

from ._audit_report import render_audit_report, template_env
from ._plots import bar_chart, fig_to_data_uri, heatmap, histogram

__all__ = [
    "bar_chart",
    "fig_to_data_uri",
    "heatmap",
    "histogram",
    "render_audit_report",
    "template_env",
]
