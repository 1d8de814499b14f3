"""Inline SVG charts: the one plotting approach of every truelabel report.

Why SVG and not matplotlib PNGs: ``benchmarks/bench_report.py`` renders the audit's figures
both ways; SVG needs no matplotlib import (about a second) and no rasterising, stays sharp
at any zoom, its text can be searched and copied, and every mark carries a tooltip. The data
are binned, capped or thinned first, so a chart stays a few kB whatever the number of items.

Each function returns one ``<svg>`` string. Every chart has a title, labelled axes with
ticks, and text escaped for HTML. Only presentation attributes are used (no ``style``
attribute, no script): the reports run under a strict Content-Security-Policy
(``style-src 'self'``). The module imports NumPy only; the stages compute what they plot
(reliability bins come from :mod:`truelabel.calibrate`, confusions from the stage result).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MAX_HEATMAP_CLASSES",
    "PALETTE",
    "bar_chart",
    "confusion_chart",
    "heatmap",
    "histogram",
    "histogram_counts",
    "interval_chart",
    "line_chart",
    "nice_ticks",
    "reliability_chart",
    "reliability_chart_from_bins",
    "scatter",
    "top_confusions",
]

#: above this many classes a confusion or noise matrix is shown as its top confused pairs
MAX_HEATMAP_CLASSES = 12

PALETTE = {
    "blue": "#4c72b0",
    "red": "#c44e52",
    "green": "#55a868",
    "orange": "#dd8452",
    "grey": "#8c8c8c",
    "purple": "#8172b3",
}
_INK = "#333"
_GRID = "#e5e5e5"
_W, _H = 520, 300
_BAR_CHARS = 50  # longest category label drawn beside a bar (the tooltip has it all)
_FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif"'


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _short(text: object, n: int = 34) -> str:
    s = str(text)
    return s if len(s) <= n else s[: n - 1] + "…"


def fmt(v: float) -> str:
    """A number for a tick or a tooltip: 3 significant digits, scientific when tiny or huge."""
    if v is None or not np.isfinite(v):
        return "–"
    a = abs(float(v))
    if a != 0 and (a >= 1e5 or a < 1e-3):
        return f"{v:.1e}"
    if a >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def nice_ticks(lo: float, hi: float, n: int = 5, *, integer: bool = False) -> np.ndarray:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering ``[lo, hi]``.

    ``integer=True`` keeps whole numbers only (iterations, epochs, counts).
    """
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.array([lo if np.isfinite(lo) else 0.0])
    raw = max((hi - lo) / max(n, 1), 1.0 if integer else 0.0)
    base = 10.0 ** math.floor(math.log10(raw))
    step = base
    for m in (1.0, 2.0, 5.0, 10.0) if integer else (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= m * base * 1.15:
            step = m * base
            break
    start = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(start, hi + step * 1e-6, step)
    return np.round(ticks, 12)


def _log_ticks(lo: float, hi: float) -> np.ndarray:
    lo_e, hi_e = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    for mults in ((1.0,), (1.0, 3.0), (1.0, 2.0, 5.0)):
        t = np.array([m * 10.0**e for e in range(lo_e, hi_e + 1) for m in mults])
        t = t[(t >= lo * 0.999) & (t <= hi * 1.001)]
        if len(t) >= 3 or mults == (1.0, 2.0, 5.0):
            return t if len(t) >= 2 else np.geomspace(lo, hi, 3)
    return t  # pragma: no cover


@dataclass
class _Scale:
    """Data -> pixel mapping of one axis (linear or log10)."""

    lo: float
    hi: float
    p0: float
    p1: float
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        if self.log:
            self.lo = max(self.lo, 1e-12)
            self.hi = max(self.hi, self.lo * 10)
        elif not self.hi > self.lo:
            self.lo, self.hi = self.lo - 0.5, self.hi + 0.5

    def __call__(self, v: np.ndarray | float) -> np.ndarray:
        a = np.asarray(v, dtype=np.float64)
        if self.log:
            lo, hi = math.log10(self.lo), math.log10(self.hi)
            a = np.log10(np.maximum(a, self.lo))
        else:
            lo, hi = self.lo, self.hi
        return self.p0 + (a - lo) / (hi - lo) * (self.p1 - self.p0)

    def ticks(self) -> np.ndarray:
        t = (
            _log_ticks(self.lo, self.hi)
            if self.log
            else nice_ticks(self.lo, self.hi, integer=self.integer)
        )
        return t[(t >= self.lo - 1e-9 * abs(self.hi)) & (t <= self.hi + 1e-9 * abs(self.hi))]


@dataclass
class _Frame:
    """A chart's canvas: plot box, scales, and the SVG parts drawn so far."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float

    def __post_init__(self) -> None:
        self.parts: list[str] = []

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top

    def add(self, s: str) -> None:
        self.parts.append(s)

    def svg(self, title: str, alt: str, subtitle: str = "") -> str:
        sub = (
            f'<text x="{self.width / 2:.0f}" y="33" text-anchor="middle" font-size="11" '
            f'fill="#555">{_esc(subtitle)}</text>'
            if subtitle
            else ""
        )
        return (
            f'<svg class="chart" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" role="img" aria-label="{_esc(alt)}" '
            f'{_FONT} font-size="11" fill="{_INK}">'
            f"<title>{_esc(alt)}</title>"
            f'<text x="{self.width / 2:.0f}" y="17" text-anchor="middle" font-size="13" '
            f'font-weight="600">{_esc(title)}</text>{sub}' + "".join(self.parts) + "</svg>"
        )


def _x_axis(f: _Frame, sx: _Scale, label: str, *, grid: bool = False) -> None:
    f.add(f'<line x1="{f.x0}" y1="{f.y0}" x2="{f.x1}" y2="{f.y0}" stroke="{_INK}"/>')
    for v in sx.ticks():
        px = float(sx(v))
        if grid:
            f.add(f'<line x1="{px:.1f}" y1="{f.y1}" x2="{px:.1f}" y2="{f.y0}" stroke="{_GRID}"/>')
        f.add(
            f'<line x1="{px:.1f}" y1="{f.y0}" x2="{px:.1f}" y2="{f.y0 + 4}" stroke="{_INK}"/>'
            f'<text class="tick" x="{px:.1f}" y="{f.y0 + 16}" text-anchor="middle">{fmt(v)}</text>'
        )
    f.add(
        f'<text x="{(f.x0 + f.x1) / 2:.0f}" y="{f.height - 6}" text-anchor="middle">'
        f"{_esc(label)}</text>"
    )


def _y_axis(f: _Frame, sy: _Scale, label: str, *, grid: bool = True) -> None:
    f.add(f'<line x1="{f.x0}" y1="{f.y1}" x2="{f.x0}" y2="{f.y0}" stroke="{_INK}"/>')
    for v in sy.ticks():
        py = float(sy(v))
        if grid:
            f.add(f'<line x1="{f.x0}" y1="{py:.1f}" x2="{f.x1}" y2="{py:.1f}" stroke="{_GRID}"/>')
        f.add(
            f'<line x1="{f.x0 - 4}" y1="{py:.1f}" x2="{f.x0}" y2="{py:.1f}" stroke="{_INK}"/>'
            f'<text class="tick" x="{f.x0 - 6}" y="{py + 4:.1f}" text-anchor="end">{fmt(v)}</text>'
        )
    cy = (f.y0 + f.y1) / 2
    f.add(
        f'<text x="13" y="{cy:.0f}" text-anchor="middle" transform="rotate(-90 13 {cy:.0f})">'
        f"{_esc(label)}</text>"
    )


def _legend(f: _Frame, items: Sequence[tuple[str, str]], *, x: float | None = None) -> None:
    px = f.x1 - 150 if x is None else x
    for i, (name, colour) in enumerate(items):
        py = f.y1 + 4 + 15 * i
        f.add(
            f'<rect x="{px:.0f}" y="{py}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{px + 14:.0f}" y="{py + 9}" font-size="10.5">{_esc(name)}</text>'
        )


def _skewed(counts: np.ndarray) -> bool:
    """Counts spanning more than a factor 30 between the largest and a typical non-empty bin."""
    nz = counts[counts > 0]
    return len(nz) >= 2 and float(nz.max()) > 30 * float(np.median(nz))


# --------------------------------------------------------------------------- charts
def histogram(
    values: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str = "items",
    bins: int = 20,
    value_range: tuple[float, float] | None = None,
    log_y: bool | None = None,
    split: np.ndarray | None = None,
    split_names: tuple[str, str] = ("other", "flagged"),
) -> str:
    """A histogram of ``values`` (non-finite values skipped).

    Parameters
    ----------
    values : ndarray of shape (n,)
    bins : int
    value_range : (float, float), optional
        Default: the finite min and max.
    log_y : bool, optional
        Log-scale counts; default when the counts are skewed (one bin holding more than
        30 times a typical bin, e.g. confidences piled at 1.0).
    split : ndarray of shape (n,), bool, optional
        Stack two groups (``split_names[1]`` where True) in two colours.
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    grp = None if split is None else np.asarray(split, dtype=bool)[ok]
    v = v[ok]
    if value_range is None:
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
    else:
        lo, hi = value_range
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    layers = [v] if grp is None else [v[~grp], v[grp]]
    counts = np.array([np.histogram(x, bins=edges)[0] for x in layers])
    names = None if grp is None else split_names
    return histogram_counts(
        edges, counts, title=title, xlabel=xlabel, ylabel=ylabel, log_y=log_y, layer_names=names
    )


def histogram_counts(
    edges: np.ndarray,
    counts: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str = "items",
    log_y: bool | None = None,
    layer_names: Sequence[str] | None = None,
) -> str:
    """A histogram from counts already binned (e.g. summed over the chunks of a large run).

    Parameters
    ----------
    edges : ndarray of shape (B + 1,)
    counts : ndarray of shape (B,) or (L, B)
        One row per stacked layer.
    log_y : bool, optional
        Default: when the counts are skewed (see :func:`histogram`).
    layer_names : sequence of L str, optional
        A legend entry per layer.
    """
    edges = np.asarray(edges, dtype=np.float64)
    counts = np.atleast_2d(np.asarray(counts, dtype=np.int64))
    lo, hi = float(edges[0]), float(edges[-1])
    total = counts.sum(axis=0)
    log = _skewed(total) if log_y is None else bool(log_y)
    f = _Frame(_W, _H, 58, 14, 44, 42)
    sx = _Scale(lo, hi, f.x0, f.x1)
    ymax = float(max(total.max() if len(total) else 1, 1))
    sy = _Scale(0.8 if log else 0.0, ymax * (1.6 if log else 1.05), f.y0, f.y1, log=log)
    _y_axis(f, sy, ylabel + (" (log scale)" if log else ""))
    colours = [PALETTE["blue"], PALETTE["red"], PALETTE["green"], PALETTE["orange"]]
    base = np.zeros_like(total, dtype=np.float64)
    for li, c in enumerate(counts):
        for b in np.flatnonzero(c):
            a, z = float(sx(edges[b])), float(sx(edges[b + 1]))
            y_lo = float(sy(max(base[b], 0.8) if log else base[b]))
            y_hi = float(sy(base[b] + c[b]))
            name = "" if layer_names is None else f"{layer_names[li]}: "
            f.add(
                f'<rect x="{a + 0.5:.1f}" y="{y_hi:.1f}" width="{max(z - a - 1, 0.8):.1f}" '
                f'height="{max(y_lo - y_hi, 0.5):.1f}" fill="{colours[li % len(colours)]}">'
                f"<title>{name}{fmt(edges[b])}–{fmt(edges[b + 1])}: {int(c[b])}</title></rect>"
            )
        base += c
    _x_axis(f, sx, xlabel)
    if layer_names is not None:
        _legend(f, [(n, colours[i % len(colours)]) for i, n in enumerate(layer_names)])
    sub = f"{int(total.sum()):,} values" + ("; counts on a log scale" if log else "")
    return f.svg(title, f"histogram: {title}", sub)


def bar_chart(
    values: np.ndarray,
    labels: Sequence[object],
    *,
    title: str,
    xlabel: str,
    max_bars: int = 25,
    sort: bool = True,
    log_x: bool = False,
    colour: str = PALETTE["blue"],
    value_labels: Sequence[str] | None = None,
    subtitle: str = "",
) -> str:
    """Horizontal bars, one per label (largest first when ``sort``), at most ``max_bars``.

    Parameters
    ----------
    values : ndarray of shape (n,)
    labels : sequence of length n
        Shown left of the bars (long names shortened; the full name is in the tooltip).
    value_labels : sequence of str, optional
        Text written at the end of each bar (default: the value).
    """
    vals = np.asarray(values, dtype=np.float64)
    idx = np.arange(len(vals))
    if sort:
        idx = np.argsort(-np.nan_to_num(vals, nan=-np.inf), kind="stable")
    shown = idx[:max_bars]
    n = max(len(shown), 1)
    longest = max((len(_short(labels[i], _BAR_CHARS)) for i in shown), default=4)
    left = 24 + 6.2 * longest
    row = 18
    f = _Frame(int(left + 380), int(60 + 44 + row * n), left, 90, 46, 44)
    finite = vals[shown][np.isfinite(vals[shown])]
    vmax = float(finite.max()) if len(finite) else 1.0
    if log_x:
        pos = finite[finite > 0]
        sx = _Scale(float(pos.min()) if len(pos) else 1.0, max(vmax, 1e-12), f.x0, f.x1, log=True)
    else:
        sx = _Scale(min(0.0, float(finite.min()) if len(finite) else 0.0), vmax or 1.0, f.x0, f.x1)
    _x_axis(f, sx, xlabel, grid=True)
    f.add(f'<line x1="{f.x0}" y1="{f.y1}" x2="{f.x0}" y2="{f.y0}" stroke="{_INK}"/>')
    zero = float(sx(sx.lo if log_x else max(sx.lo, 0.0)))
    for r, i in enumerate(shown):
        y = f.y1 + r * row
        v = float(vals[i])
        end = float(sx(v)) if np.isfinite(v) else zero
        txt = value_labels[i] if value_labels is not None else fmt(v)
        f.add(
            f'<text x="{f.x0 - 6:.0f}" y="{y + 13}" text-anchor="end">'
            f"<title>{_esc(labels[i])}</title>{_esc(_short(labels[i], _BAR_CHARS))}</text>"
            f'<rect x="{min(zero, end):.1f}" y="{y + 3}" width="{max(abs(end - zero), 0.8):.1f}" '
            f'height="{row - 5}" fill="{colour}"><title>{_esc(labels[i])}: {_esc(txt)}</title>'
            f'</rect><text x="{max(zero, end) + 4:.1f}" y="{y + 13}" font-size="10">'
            f"{_esc(txt)}</text>"
        )
    hidden = len(vals) - len(shown)
    sub = subtitle or (f"top {len(shown)} of {len(vals)}" if hidden > 0 else "")
    return f.svg(title, f"bar chart: {title}", sub)


def heatmap(
    matrix: np.ndarray,
    row_labels: Sequence[object],
    col_labels: Sequence[object],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    subtitle: str = "",
) -> str:
    """A small matrix in [0, 1] with its values written in the cells.

    Diagonal cells are shaded blue; off-diagonal cells red, scaled to the largest
    off-diagonal value, so small confusions stay visible next to a dominant diagonal.
    Meant for at most :data:`MAX_HEATMAP_CLASSES` rows (see :func:`confusion_chart`).
    """
    m = np.asarray(matrix, dtype=np.float64)
    nr, nc = m.shape
    cell = max(26, min(46, 400 // max(nr, nc, 1)))
    longest = max((len(_short(x, 22)) for x in list(row_labels) + list(col_labels)), default=4)
    left = 40 + 6.2 * longest
    bottom = 34 + 6.0 * longest * 0.75
    width = max(int(left + cell * nc + 20), int(8.4 * max(len(title), len(subtitle) * 0.75)) + 24)
    f = _Frame(width, int(46 + cell * nr + bottom), left, width - left - cell * nc, 46, bottom)
    off = m.copy()
    if nr == nc:
        np.fill_diagonal(off, np.nan)
    off_max = float(np.nanmax(off)) if np.isfinite(off).any() and np.nanmax(off) > 0 else 1.0
    for r in range(nr):
        y = f.y1 + r * cell
        f.add(
            f'<text x="{f.x0 - 6:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="end">'
            f"<title>{_esc(row_labels[r])}</title>{_esc(_short(row_labels[r], 22))}</text>"
        )
        for c in range(nc):
            v = float(m[r, c]) if np.isfinite(m[r, c]) else 0.0
            if r == c and nr == nc:
                t = min(max(v, 0.0), 1.0)
                rgb = (int(235 - 160 * t), int(242 - 130 * t), int(250 - 70 * t))
            else:
                t = min(max(v / off_max, 0.0), 1.0)
                rgb = (int(255 - 59 * t), int(255 - 177 * t), int(255 - 173 * t))
            x = f.x0 + c * cell
            dark = (r == c and v > 0.55) or (r != c and v / off_max > 0.6)
            f.add(
                f'<rect x="{x:.0f}" y="{y:.0f}" width="{cell}" height="{cell}" '
                f'fill="rgb{rgb}" stroke="#fff"><title>{_esc(ylabel)} {_esc(row_labels[r])}, '
                f"{_esc(xlabel)} {_esc(col_labels[c])}: {v:.3f}</title></rect>"
                f'<text x="{x + cell / 2:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle" '
                f'font-size="10" fill="{"#fff" if dark else _INK}">{v:.2f}</text>'
            )
    for c in range(nc):
        x = f.x0 + c * cell + cell / 2
        y = f.y0 + 8
        f.add(
            f'<text x="{x:.0f}" y="{y:.0f}" transform="rotate(45 {x:.0f} {y:.0f})">'
            f"<title>{_esc(col_labels[c])}</title>{_esc(_short(col_labels[c], 22))}</text>"
        )
    f.add(
        f'<text x="{(f.x0 + f.x1) / 2:.0f}" y="{f.height - 6}" text-anchor="middle">'
        f"{_esc(xlabel)}</text>"
    )
    cy = (f.y0 + f.y1) / 2
    f.add(
        f'<text x="13" y="{cy:.0f}" text-anchor="middle" transform="rotate(-90 13 {cy:.0f})">'
        f"{_esc(ylabel)}</text>"
    )
    return f.svg(title, f"matrix: {title}", subtitle)


def top_confusions(
    matrix: np.ndarray, labels: Sequence[object], *, top: int = 15, min_value: float = 0.0
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The largest off-diagonal cells of a square matrix, largest first.

    Returns
    -------
    values : ndarray of shape (<= top,)
    pairs : list of (row, column) indices
    """
    m = np.array(matrix, dtype=np.float64)
    np.fill_diagonal(m, -np.inf)
    flat = np.argsort(-m, axis=None, kind="stable")[:top]
    rows, cols = np.unravel_index(flat, m.shape)
    keep = m[rows, cols] > min_value
    return m[rows, cols][keep], list(zip(rows[keep].tolist(), cols[keep].tolist(), strict=True))


def confusion_chart(
    matrix: np.ndarray,
    labels: Sequence[object],
    *,
    title: str,
    row_name: str,
    col_name: str,
    top: int = 15,
    value_name: str = "share",
    counts: np.ndarray | None = None,
) -> str:
    """A square class-by-class matrix a reader can take in at a glance.

    Up to :data:`MAX_HEATMAP_CLASSES` classes: a :func:`heatmap`. Beyond that: a bar chart
    of the ``top`` largest off-diagonal cells ("row ← column" pairs), since a 77 x 77
    heatmap has unreadable ticks and its informative cells are a few pixels wide.

    Parameters
    ----------
    matrix : ndarray of shape (K, K)
    counts : ndarray of shape (K, K), optional
        How many items each cell stands for, written beside the pair's bar (``≈n items``).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape[0] <= MAX_HEATMAP_CLASSES:
        return heatmap(m, labels, labels, title=title, xlabel=col_name, ylabel=row_name)
    vals, pairs = top_confusions(m, labels, top=top)
    names = [f"{_short(labels[r], 26)} ← {_short(labels[c], 26)}" for r, c in pairs]
    text = None
    if counts is not None:
        cnt = np.asarray(counts, dtype=np.float64)
        text = [f"{fmt(v)} (≈{cnt[r, c]:.0f} items)" for v, (r, c) in zip(vals, pairs, strict=True)]
    return bar_chart(
        vals,
        names,
        value_labels=text,
        title=title,
        xlabel=value_name,
        sort=False,
        colour=PALETTE["red"],
        subtitle=f"the {len(pairs)} largest off-diagonal cells of {m.shape[0]} x {m.shape[0]} "
        f"({row_name} ← {col_name})",
    )


def reliability_chart(
    bin_edges: np.ndarray,
    confidence: np.ndarray,
    accuracy: np.ndarray,
    count: np.ndarray,
    *,
    title: str,
    against: str = "accuracy",
) -> str:
    """A reliability diagram: accuracy per confidence bin against the diagonal.

    Parameters
    ----------
    bin_edges : ndarray of shape (B + 1,)
    confidence, accuracy : ndarray of shape (B,)
        Mean confidence and accuracy per bin (NaN where empty), e.g. from
        :func:`truelabel.calibrate.reliability_diagram`.
    count : ndarray of shape (B,)
    against : str
        What "correct" means (the y-axis label), e.g. "agreement with the given label".
    """
    edges = np.asarray(bin_edges, dtype=np.float64)
    conf = np.asarray(confidence, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    cnt = np.asarray(count, dtype=np.int64)
    f = _Frame(_W - 80, _H + 40, 58, 14, 44, 42)
    sx = _Scale(0.0, 1.0, f.x0, f.x1)
    sy = _Scale(0.0, 1.0, f.y0, f.y1)
    _y_axis(f, sy, against)
    f.add(
        f'<line x1="{f.x0}" y1="{f.y0}" x2="{f.x1}" y2="{f.y1}" stroke="{PALETTE["grey"]}" '
        'stroke-dasharray="4 3"><title>perfect calibration</title></line>'
    )
    n = max(int(cnt.sum()), 1)
    for b in np.flatnonzero(cnt > 0):
        a, z = float(sx(edges[b])), float(sx(edges[b + 1]))
        y = float(sy(acc[b]))
        f.add(
            f'<rect x="{a + 1:.1f}" y="{y:.1f}" width="{max(z - a - 2, 1):.1f}" '
            f'height="{f.y0 - y:.1f}" fill="{PALETTE["blue"]}" fill-opacity="0.85">'
            f"<title>confidence {fmt(edges[b])}–{fmt(edges[b + 1])}: {int(cnt[b])} items, "
            f"mean confidence {conf[b]:.3f}, {_esc(against)} {acc[b]:.3f}</title></rect>"
            f'<circle cx="{float(sx(conf[b])):.1f}" cy="{float(sy(conf[b])):.1f}" r="3" '
            f'fill="{PALETTE["orange"]}"><title>mean confidence {conf[b]:.3f}</title></circle>'
        )
    _x_axis(f, sx, "confidence (predicted probability of the top class)")
    _legend(
        f,
        [(against, PALETTE["blue"]), ("mean confidence", PALETTE["orange"])],
        x=f.x0 + 8,
    )
    w = cnt / n
    gaps = np.abs(acc - conf)
    ece = float(np.nansum(np.where(cnt > 0, w * gaps, 0.0)))
    return f.svg(
        title, f"reliability diagram: {title}", f"ECE {ece:.3f} · {int(cnt.sum()):,} items"
    )


def reliability_chart_from_bins(
    bins: Mapping[str, Any] | None, *, title: str, against: str = "accuracy"
) -> str | None:
    """:func:`reliability_chart` of stored bins (``ReliabilityDiagram.to_dict()``, JSON:
    ``None`` for an empty bin); ``None`` when there are no bins."""
    if not bins:
        return None

    def arr(key: str) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in bins[key]], dtype=np.float64)

    return reliability_chart(
        np.asarray(bins["bin_edges"], dtype=np.float64),
        arr("confidence"),
        arr("accuracy"),
        np.asarray(bins["count"]),
        title=title,
        against=against,
    )


def scatter(
    x: np.ndarray,
    y: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    labels: Sequence[object] | None = None,
    max_points: int = 2000,
) -> str:
    """A scatter plot (at most ``max_points`` points, evenly thinned).

    Parameters
    ----------
    x, y : ndarray of shape (n,)
    labels : sequence of length n, optional
        A tooltip per point (e.g. the source name).
    logx, logy : bool
        Log-scale axes (non-positive values are dropped).
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(xa) & np.isfinite(ya)
    if logx:
        ok &= xa > 0
    if logy:
        ok &= ya > 0
    idx = np.flatnonzero(ok)
    if len(idx) > max_points:
        idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(np.int64)]
    f = _Frame(_W, _H, 58, 14, 44, 42)
    xs, ys = xa[idx], ya[idx]
    xlo, xhi = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    ylo, yhi = (float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0)
    if not logy:
        pad = 0.05 * (yhi - ylo or 1.0)
        ylo, yhi = ylo - pad, yhi + pad
    if logx and xhi <= xlo:
        xlo, xhi = xlo / 2, xhi * 2
    sx = _Scale(xlo, xhi, f.x0, f.x1, log=logx)
    sy = _Scale(ylo, yhi, f.y0, f.y1, log=logy)
    _y_axis(f, sy, ylabel + (" (log)" if logy else ""))
    px, py = sx(xs), sy(ys)
    for j, (a, b) in enumerate(zip(px, py, strict=True)):
        i = int(idx[j])
        tip = f"{_esc(labels[i])}: " if labels is not None else ""
        f.add(
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.2" fill="{PALETTE["blue"]}" '
            f'fill-opacity="0.6"><title>{tip}{fmt(xa[i])}, {fmt(ya[i])}</title></circle>'
        )
    _x_axis(f, sx, xlabel + (" (log scale)" if logx else ""))
    sub = f"{len(idx):,} points" + (f" of {int(ok.sum()):,}" if ok.sum() > len(idx) else "")
    return f.svg(title, f"scatter plot: {title}", sub)


def interval_chart(
    labels: Sequence[object],
    estimate: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    *,
    title: str,
    xlabel: str,
    colours: Sequence[str] | None = None,
    reference: float | None = None,
) -> str:
    """Point estimates with their intervals, one row each (a forest plot).

    Parameters
    ----------
    labels : sequence of length n
    estimate, low, high : ndarray of shape (n,)
    colours : sequence of n colours, optional
    reference : float, optional
        A vertical reference line (e.g. 0).
    """
    est = np.asarray(estimate, dtype=np.float64)
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    n = max(len(est), 1)
    row = 22
    longest = max((len(_short(x, 40)) for x in labels), default=4)
    left = min(24 + 6.2 * longest, 280)
    f = _Frame(_W + 80, int(60 + 44 + row * n), left, 24, 46, 44)
    every = np.concatenate(
        [lo, hi, est] + ([np.array([reference])] if reference is not None else [])
    )
    every = every[np.isfinite(every)]
    a, b = (float(every.min()), float(every.max())) if len(every) else (0.0, 1.0)
    pad = 0.06 * (b - a or 1.0)
    sx = _Scale(a - pad, b + pad, f.x0, f.x1)
    _x_axis(f, sx, xlabel, grid=True)
    f.add(f'<line x1="{f.x0}" y1="{f.y1}" x2="{f.x0}" y2="{f.y0}" stroke="{_INK}"/>')
    if reference is not None and sx.lo <= reference <= sx.hi:
        rx = float(sx(reference))
        f.add(
            f'<line x1="{rx:.1f}" y1="{f.y1}" x2="{rx:.1f}" y2="{f.y0}" stroke="{PALETTE["grey"]}" '
            'stroke-dasharray="4 3"/>'
        )
    for r in range(len(est)):
        y = f.y1 + r * row + row / 2
        c = colours[r] if colours is not None else PALETTE["blue"]
        tip = f"{_esc(labels[r])}: {fmt(est[r])} [{fmt(lo[r])}, {fmt(hi[r])}]"
        f.add(
            f'<text x="{f.x0 - 6:.0f}" y="{y + 4:.0f}" text-anchor="end">'
            f"<title>{_esc(labels[r])}</title>{_esc(_short(labels[r], 40))}</text>"
        )
        if np.isfinite(lo[r]) and np.isfinite(hi[r]):
            f.add(
                f'<line x1="{float(sx(lo[r])):.1f}" y1="{y:.1f}" x2="{float(sx(hi[r])):.1f}" '
                f'y2="{y:.1f}" stroke="{c}" stroke-width="3"><title>{tip}</title></line>'
            )
        if np.isfinite(est[r]):
            f.add(
                f'<circle cx="{float(sx(est[r])):.1f}" cy="{y:.1f}" r="4.5" fill="{c}">'
                f"<title>{tip}</title></circle>"
            )
    return f.svg(title, f"intervals: {title}")


def line_chart(
    x: np.ndarray,
    series: dict[str, np.ndarray],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    log_y: bool = False,
) -> str:
    """One or more lines over a shared x (e.g. a log-likelihood per EM iteration).

    Parameters
    ----------
    x : ndarray of shape (n,)
    series : dict of name -> ndarray of shape (n,)
    """
    xa = np.asarray(x, dtype=np.float64)
    ys = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
    every = np.concatenate([v[np.isfinite(v)] for v in ys.values()] or [np.zeros(1)])
    if log_y:
        every = every[every > 0]
    f = _Frame(_W, _H, 64, 14, 44, 42)
    sx = _Scale(
        float(xa.min()) if len(xa) else 0.0, float(xa.max()) if len(xa) else 1.0, f.x0, f.x1
    )
    lo, hi = (float(every.min()), float(every.max())) if len(every) else (0.0, 1.0)
    if not log_y:
        pad = 0.05 * (hi - lo or 1.0)
        lo, hi = lo - pad, hi + pad
    sy = _Scale(lo, hi, f.y0, f.y1, log=log_y)
    _y_axis(f, sy, ylabel)
    colours = list(PALETTE.values())
    for j, (name, v) in enumerate(ys.items()):
        ok = np.isfinite(v) & ((v > 0) if log_y else True)
        pts = " ".join(
            f"{float(a):.1f},{float(b):.1f}" for a, b in zip(sx(xa[ok]), sy(v[ok]), strict=True)
        )
        c = colours[j % len(colours)]
        f.add(
            f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="2">'
            f"<title>{_esc(name)}</title></polyline>"
        )
        for a, b, xv, yv in zip(sx(xa[ok]), sy(v[ok]), xa[ok], v[ok], strict=True):
            f.add(
                f'<circle cx="{float(a):.1f}" cy="{float(b):.1f}" r="2.5" fill="{c}">'
                f"<title>{_esc(name)} at {fmt(xv)}: {fmt(yv)}</title></circle>"
            )
    _x_axis(f, sx, xlabel)
    if len(ys) > 1:
        _legend(f, [(k, colours[j % len(colours)]) for j, k in enumerate(ys)])
    return f.svg(title, f"line chart: {title}")
