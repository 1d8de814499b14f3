"""The ``max_memory`` setting: parse "4GB" and turn it into chunk sizes."""

from __future__ import annotations

import re

from .._errors import InputError

__all__ = ["DEFAULT_MAX_MEMORY", "chunk_rows_for", "parse_memory"]

#: Used when no ``max_memory`` is given: 2 GiB leaves room on a small laptop.
DEFAULT_MAX_MEMORY = 2 * 1024**3

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


def parse_memory(value: str | int | float | None) -> int:
    """Parse a memory budget such as ``"4GB"``, ``"512MiB"`` or ``2_000_000_000``.

    Parameters
    ----------
    value : str, int, float or None
        Bytes as a number, or a number with a unit (``B``, ``KB``, ``MB``, ``GB``, ``TB``
        in powers of 1000; ``KiB`` … ``TiB`` in powers of 1024; case-insensitive).
        ``None`` gives :data:`DEFAULT_MAX_MEMORY`.

    Returns
    -------
    int
        The budget in bytes (at least 1 MB).

    Raises
    ------
    InputError
        Unknown unit, a negative or too small value.
    """
    if value is None:
        return DEFAULT_MAX_MEMORY
    if isinstance(value, bool):
        raise InputError(f"max_memory must be bytes or a string like '4GB'; got {value!r}.")
    if isinstance(value, int | float):
        n = int(value)
    else:
        m = _PATTERN.match(str(value))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise InputError(
                f"max_memory {value!r} is not a size; write a number with a unit such as "
                "'4GB', '512MB' or '8GiB'."
            )
        n = int(float(m.group(1)) * _UNITS[unit])
    if n < 1_000_000:
        raise InputError(f"max_memory {value!r} is {n} bytes; give at least 1MB (e.g. '4GB').")
    return n


def chunk_rows_for(
    max_memory: int,
    bytes_per_row: int,
    *,
    fraction: float = 0.25,
    min_rows: int = 1_024,
    max_rows: int = 4_000_000,
) -> int:
    """Rows per chunk so that one chunk's working set stays within a share of the budget.

    Parameters
    ----------
    max_memory : int
        Budget in bytes (see :func:`parse_memory`).
    bytes_per_row : int
        Bytes one row needs while it is processed (input plus temporaries).
    fraction : float
        Share of the budget one chunk may use; the rest is for the interpreter, per-item
        outputs and the next chunk being read.
    min_rows, max_rows : int
        Clamp; tiny chunks make the per-chunk overhead dominate, huge ones gain nothing.

    Returns
    -------
    int
        Rows per chunk.
    """
    rows = int(max_memory * fraction) // max(int(bytes_per_row), 1)
    return int(min(max(rows, min_rows), max_rows))
