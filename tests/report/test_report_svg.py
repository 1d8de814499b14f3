"""Inline SVG charts: escaped text, bounded size whatever the data, sane axes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from truelabel.report._svg import svg_heatmap, svg_histogram, svg_scatter


def test_charts_are_valid_escaped_svg() -> None:
    for svg in (
        svg_histogram(np.array([1.0, 2.0, np.nan, 2.5]), title="<b>x</b>", xlabel="a & b"),
        svg_scatter(
            np.arange(1, 5), np.arange(4), title="t", xlabel="x", ylabel="y", labels=list('<>&"')
        ),
        svg_heatmap(np.eye(3), ["<cat>", "dog", "owl"], title="w&1"),
    ):
        root = ET.fromstring(svg)  # well-formed XML, so every text was escaped
        assert root.tag.endswith("svg")
        assert "<b>" not in svg and "<cat>" not in svg


def test_size_is_bounded_and_log_axis_gets_ticks() -> None:
    rng = np.random.default_rng(0)
    big = svg_scatter(rng.random(200_000), rng.random(200_000), title="t", xlabel="x", ylabel="y")
    assert big.count("<circle") == 2000  # thinned evenly, not 200k points
    hist = svg_histogram(rng.normal(size=200_000), title="t", xlabel="x", bins=20)
    assert hist.count("<rect") <= 20 and len(hist) < 20_000
    # votes between 21 and 78: no power of ten inside, still labelled ticks on the log axis
    svg = svg_scatter(
        np.array([21.0, 40, 78]),
        np.array([0.3, 0.7, 1.0]),
        title="t",
        xlabel="x",
        ylabel="y",
        logx=True,
    )
    xticks = re.findall(r'text-anchor="middle">([0-9.]+)</text>', svg)
    assert len(xticks) >= 2
