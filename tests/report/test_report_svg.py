"""The report charts: escaped text, bounded size, ticks on every axis, readable at a glance."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from truelabel.report import (
    bar_chart,
    confusion_chart,
    heatmap,
    histogram,
    interval_chart,
    line_chart,
    nice_ticks,
    reliability_chart,
    scatter,
    top_confusions,
)

TICK = re.compile(r'class="tick"[^>]*>([^<]+)</text>')


def _all_charts() -> list[str]:
    rng = np.random.default_rng(0)
    names = ["<cat>", "dog & co", 'owl"']
    return [
        histogram(np.array([1.0, 2.0, np.nan, 2.5]), title="<b>x</b>", xlabel="a & b"),
        scatter(
            np.arange(1, 5), np.arange(4), title="t", xlabel="x", ylabel="y", labels=list("<>&'")
        ),
        heatmap(np.eye(3), names, names, title="w&1", xlabel="true", ylabel="given"),
        bar_chart(rng.random(3), names, title="bars", xlabel="rate"),
        reliability_chart(
            np.linspace(0, 1, 11),
            np.linspace(0.05, 0.95, 10),
            np.linspace(0, 0.9, 10),
            np.arange(10),
            title="rel",
        ),  # fmt: skip
        interval_chart(names, np.zeros(3), -np.ones(3), np.ones(3), title="ci", xlabel="x"),
        line_chart(np.arange(1, 6), {"ll": np.arange(5.0)}, title="em", xlabel="it", ylabel="ll"),
    ]


def test_charts_are_valid_escaped_svg_without_style_or_script() -> None:
    for svg in _all_charts():
        root = ET.fromstring(svg)  # well-formed XML, so every text was escaped
        assert root.tag == "svg"
        assert "<b>" not in svg and "<cat>" not in svg
        # the reports' CSP has style-src 'self': no style attribute, no inline script
        assert "style=" not in svg and "<script" not in svg and "on" + "click" not in svg


def test_every_chart_with_axes_has_ticks_on_them() -> None:
    for svg in _all_charts():
        if "matrix:" in svg:  # a heatmap is labelled by its class names instead
            assert "&lt;cat&gt;" in svg
            continue
        assert len(TICK.findall(svg)) >= 3, svg[:200]


def test_size_is_bounded_and_log_axis_gets_ticks() -> None:
    rng = np.random.default_rng(0)
    big = scatter(rng.random(200_000), rng.random(200_000), title="t", xlabel="x", ylabel="y")
    assert big.count("<circle") == 2000  # thinned evenly, not 200k points
    hist = histogram(rng.normal(size=200_000), title="t", xlabel="x", bins=20)
    assert hist.count("<rect") <= 20 and len(hist) < 20_000
    # votes between 21 and 78: no power of ten inside, still labelled ticks on the log axis
    svg = scatter(
        np.array([21.0, 40, 78]), np.array([0.3, 0.7, 1.0]), title="t", xlabel="x", ylabel="y",
        logx=True,
    )  # fmt: skip
    assert len(TICK.findall(svg)) >= 2 + 3


def test_skewed_counts_get_a_log_scale() -> None:
    # an aggregate's confidences: most items at 1.0, a few spread below
    conf = np.concatenate([np.ones(5000), np.linspace(0.4, 0.99, 60)])
    svg = histogram(conf, title="confidence", xlabel="c", value_range=(0.0, 1.0))
    assert "log scale" in svg
    ticks = TICK.findall(svg)
    assert "1,000" in ticks or "1e+03" in ticks or "1000" in ticks
    flat = histogram(np.linspace(0, 1, 500), title="flat", xlabel="c")
    assert "log scale" not in flat


def test_many_classes_show_the_top_confused_pairs_not_a_heatmap() -> None:
    k = 77
    names = [f"class_{i}" for i in range(k)]
    m = np.eye(k) * 0.9
    m[3, 5] = 0.4  # the largest confusion: given class_3 for true class_5
    m[10, 2] = 0.2
    svg = confusion_chart(m, names, title="noise", row_name="given", col_name="true", top=10)
    assert "class_3 ← class_5" in svg and "class_10 ← class_2" in svg
    assert svg.index("class_3 ← class_5") < svg.index("class_10 ← class_2")
    assert svg.count("<rect") <= 10  # ten bars, not 77 x 77 cells
    small = confusion_chart(np.eye(4), names[:4], title="t", row_name="r", col_name="c")
    assert small.count("<rect") == 16
    vals, pairs = top_confusions(m, names, top=2)
    assert pairs == [(3, 5), (10, 2)] and np.allclose(vals, [0.4, 0.2])


def test_nice_ticks_are_round_numbers() -> None:
    assert nice_ticks(0, 1).tolist() == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(1, 12, integer=True).tolist() == [2, 4, 6, 8, 10, 12]
    assert nice_ticks(-5400, -4900).tolist()[0] == -5400
