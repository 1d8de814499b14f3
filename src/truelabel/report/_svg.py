"""Small inline SVG charts (histogram, scatter, heatmap) for HTML reports.

No matplotlib: importing and rasterising it costs seconds, which dominated the
``aggregate`` command on large inputs. Each function returns one ``<svg>`` string with
every text escaped; the data are binned or capped first, so the markup stays small
whatever the number of items.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

__all__ = ["svg_heatmap", "svg_histogram", "svg_scatter"]

_W, _H = 420, 260
_L, _R, _T, _B = 52, 12, 28, 40
_BLUE = "#4c72b0"


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return ""
    a = abs(v)
    if a != 0 and (a >= 1e5 or a < 1e-3):
        return f"{v:.1e}"
    return f"{v:.3g}"


def _frame(title: str, xlabel: str, ylabel: str, body: str, ticks: str, alt: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" aria-label="{_esc(alt)}" '
        'font-family="system-ui,sans-serif" font-size="11">'
        f'<text x="{_W / 2}" y="16" text-anchor="middle" font-size="13">{_esc(title)}</text>'
        f'<line x1="{_L}" y1="{_H - _B}" x2="{_W - _R}" y2="{_H - _B}" stroke="#333"/>'
        f'<line x1="{_L}" y1="{_T}" x2="{_L}" y2="{_H - _B}" stroke="#333"/>'
        f"{ticks}{body}"
        f'<text x="{(_L + _W - _R) / 2}" y="{_H - 6}" text-anchor="middle">{_esc(xlabel)}</text>'
        f'<text x="12" y="{(_T + _H - _B) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {(_T + _H - _B) / 2})">{_esc(ylabel)}</text></svg>'
    )


def _ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        return np.array([lo])
    return np.linspace(lo, hi, n)


def _axis_ticks(
    xlo: float, xhi: float, ylo: float, yhi: float, *, logx: bool = False
) -> tuple[str, object, object]:
    """Tick marks and labels plus the x and y mappings data -> pixels."""
    pw, ph = _W - _L - _R, _H - _T - _B

    def fx(v: np.ndarray) -> np.ndarray:
        vv = np.log10(np.maximum(v, 1e-300)) if logx else v
        lo = np.log10(max(xlo, 1e-300)) if logx else xlo
        hi = np.log10(max(xhi, 1e-300)) if logx else xhi
        return _L + (np.asarray(vv, dtype=float) - lo) / max(hi - lo, 1e-12) * pw

    def fy(v: np.ndarray) -> np.ndarray:
        return _H - _B - (np.asarray(v, dtype=float) - ylo) / max(yhi - ylo, 1e-12) * ph

    parts = []
    if logx:
        lo_e, hi_e = int(np.floor(np.log10(max(xlo, 1e-300)))), int(np.ceil(np.log10(xhi)))
        xt = np.array([10.0**e for e in range(lo_e, hi_e + 1)])
        xt = xt[(xt >= xlo * 0.999) & (xt <= xhi * 1.001)]
        if len(xt) < 2:  # less than a decade: a few evenly spaced (in log) ticks instead
            xt = np.geomspace(xlo, xhi, 4)
    else:
        xt = _ticks(xlo, xhi)
    for v in xt:
        px = float(fx(np.array([v]))[0])
        parts.append(
            f'<line x1="{px:.1f}" y1="{_H - _B}" x2="{px:.1f}" y2="{_H - _B + 4}" stroke="#333"/>'
            f'<text x="{px:.1f}" y="{_H - _B + 15}" text-anchor="middle">{_fmt(v)}</text>'
        )
    for v in _ticks(ylo, yhi):
        py = float(fy(np.array([v]))[0])
        parts.append(
            f'<line x1="{_L - 4}" y1="{py:.1f}" x2="{_L}" y2="{py:.1f}" stroke="#333"/>'
            f'<text x="{_L - 6}" y="{py + 4:.1f}" text-anchor="end">{_fmt(v)}</text>'
        )
    return "".join(parts), fx, fy


def svg_histogram(
    values: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str = "items",
    bins: int = 20,
    value_range: tuple[float, float] | None = None,
) -> str:
    """A histogram of ``values`` (non-finite values skipped), as one ``<svg>`` string.

    Parameters
    ----------
    values : ndarray of shape (n,)
    title, xlabel, ylabel : str
    bins : int
    value_range : (float, float), optional
        Default: the finite min and max.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if value_range is None:
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
    else:
        lo, hi = value_range
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    ymax = float(max(int(counts.max()) if len(counts) else 1, 1))
    ticks, fx, fy = _axis_ticks(lo, hi, 0.0, ymax)
    x0 = fx(edges[:-1])  # type: ignore[operator]
    x1 = fx(edges[1:])  # type: ignore[operator]
    y = fy(counts)  # type: ignore[operator]
    base = _H - _B
    body = "".join(
        f'<rect x="{a:.1f}" y="{c:.1f}" width="{max(b - a - 1, 0.5):.1f}" height="{base - c:.1f}" '
        f'fill="{_BLUE}"><title>{_fmt(lo_e)}–{_fmt(hi_e)}: {int(n)}</title></rect>'
        for a, b, c, n, lo_e, hi_e in zip(x0, x1, y, counts, edges[:-1], edges[1:], strict=True)
        if n > 0
    )
    return _frame(title, xlabel, ylabel, body, ticks, f"histogram: {title}")


def svg_scatter(
    x: np.ndarray,
    y: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    labels: Sequence[str] | None = None,
    max_points: int = 2000,
) -> str:
    """A scatter plot (at most ``max_points`` points, evenly thinned), as one ``<svg>``.

    Parameters
    ----------
    x, y : ndarray of shape (n,)
    labels : sequence of str, optional
        A tooltip per point (e.g. the source name).
    logx : bool
        Log-scale x axis (non-positive x values are dropped).
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(xa) & np.isfinite(ya) & ((xa > 0) if logx else True)
    idx = np.flatnonzero(ok)
    if len(idx) > max_points:
        idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(np.int64)]
    if len(idx) == 0:
        return _frame(title, xlabel, ylabel, "", "", f"scatter: {title}")
    xs, ys = xa[idx], ya[idx]
    xlo, xhi = float(xs.min()), float(xs.max())
    ylo, yhi = float(ys.min()), float(ys.max())
    if xhi <= xlo:
        xlo, xhi = (xlo / 2, xhi * 2) if logx else (xlo - 0.5, xhi + 0.5)
    if yhi <= ylo:
        ylo, yhi = ylo - 0.5, yhi + 0.5
    pad = 0.04 * (yhi - ylo)
    ticks, fx, fy = _axis_ticks(xlo, xhi, ylo - pad, yhi + pad, logx=logx)
    px, py = fx(xs), fy(ys)  # type: ignore[operator]
    tips = [str(labels[int(i)]) for i in idx] if labels is not None else None
    body = "".join(
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{_BLUE}" fill-opacity="0.6">'
        + (f"<title>{_esc(tips[j])}</title>" if tips is not None else "")
        + "</circle>"
        for j, (a, b) in enumerate(zip(px, py, strict=True))
    )
    return _frame(title, xlabel, ylabel, body, ticks, f"scatter: {title}")


def svg_heatmap(matrix: np.ndarray, labels: Sequence[str], *, title: str) -> str:
    """A (K, K) matrix in [0, 1] as shaded cells (rows: true class, columns: answer).

    Values are written in the cells when K <= 8; every cell has a tooltip.
    """
    m = np.asarray(matrix, dtype=np.float64)
    k = m.shape[0]
    cell = max(12, min(36, 240 // max(k, 1)))
    left, top = 90, 30
    longest = max((len(str(x)) for x in labels), default=1)
    size_w = max(left + cell * m.shape[1] + 10, 250)
    size_h = top + cell * k + min(6 * longest, 90) + 28
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_w}" height="{size_h}" '
        f'role="img" aria-label="{_esc("confusion matrix: " + title)}" '
        'font-family="system-ui,sans-serif" font-size="10">'
        f'<text x="{size_w / 2}" y="14" text-anchor="middle" font-size="12">{_esc(title)}</text>'
    ]
    for r in range(k):
        parts.append(
            f'<text x="{left - 4}" y="{top + r * cell + cell / 2 + 3}" text-anchor="end">'
            f"{_esc(labels[r])}</text>"
        )
        for c in range(m.shape[1]):
            v = float(np.clip(m[r, c], 0.0, 1.0))
            shade = int(round(255 - 200 * v))
            parts.append(
                f'<rect x="{left + c * cell}" y="{top + r * cell}" width="{cell}" height="{cell}" '
                f'fill="rgb({shade},{shade},255)" stroke="#fff"><title>true {_esc(labels[r])}, '
                f"says {_esc(str(labels[c]) if c < len(labels) else str(c))}: {v:.2f}</title></rect>"
            )
            if k <= 8:
                parts.append(
                    f'<text x="{left + c * cell + cell / 2}" y="{top + r * cell + cell / 2 + 3}" '
                    f'text-anchor="middle" fill="{"#fff" if v > 0.6 else "#000"}">{v:.2f}</text>'
                )
    for c in range(m.shape[1]):
        x = left + c * cell + cell / 2
        y = top + k * cell + 6
        name = str(labels[c]) if c < len(labels) else str(c)
        parts.append(f'<text x="{x}" y="{y}" transform="rotate(60 {x} {y})">{_esc(name)}</text>')
    parts.append(
        f'<text x="8" y="{size_h - 6}" font-size="9" fill="#555">rows: true class; '
        "columns: the source's answer</text></svg>"
    )
    return "".join(parts)
