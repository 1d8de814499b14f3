"""Input and parameter checks shared by every stage.

Public functions validate and then call private ``_compute_*`` helpers that
trust their input, so internal callers skip a second check.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import InputError
from ._types import IntArray, RandomState

__all__ = [
    "Interval",
    "Options",
    "check_labels",
    "check_listen_address",
    "check_params",
    "check_pred_probs",
    "check_random_state",
]


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """Turn ``random_state`` (int, Generator or None) into a ``np.random.Generator``.

    ``None`` means seed 0, so results are reproducible by default; pass a
    Generator to share one stream between steps.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng(0)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise InputError(
        f"random_state must be an int, a numpy Generator or None; got {random_state!r}."
    )


@dataclass(frozen=True)
class Interval:
    """A numeric range constraint: ``kind`` is int or float; ``None`` bounds are open."""

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"  # "both", "left", "right", "neither"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if self.kind is float and not isinstance(value, numbers.Real):
            return False
        lo_ok = (
            self.low is None
            or value > self.low
            or (value == self.low and self.closed in ("both", "left"))
        )
        hi_ok = (
            self.high is None
            or value < self.high
            or (value == self.high and self.closed in ("both", "right"))
        )
        return bool(lo_ok and hi_ok)

    def describe(self) -> str:
        kind = "an int" if self.kind is int else "a float"
        lb = "[" if self.closed in ("both", "left") else "("
        rb = "]" if self.closed in ("both", "right") else ")"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{kind} in the range {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options:
    """A constraint that the value is one of a fixed set."""

    values: Sequence[Any]

    def accepts(self, value: Any) -> bool:
        return value in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


Constraint = Interval | Options | str | type | None | Callable[[Any], bool]


def _accepts(c: Constraint, value: Any) -> bool:
    if c is None:
        return value is None
    if isinstance(c, Interval | Options):
        return c.accepts(value)
    if c == "random_state":
        return value is None or isinstance(value, numbers.Integral | np.random.Generator)
    if c == "boolean":
        return isinstance(value, bool | np.bool_)
    if isinstance(c, type):
        return isinstance(value, c)
    if callable(c):
        return bool(c(value))
    raise TypeError(f"unknown constraint {c!r}")


def _describe(c: Constraint) -> str:
    if c is None:
        return "None"
    if isinstance(c, Interval | Options):
        return c.describe()
    if c == "random_state":
        return "an int, a numpy Generator or None"
    if c == "boolean":
        return "a bool"
    if isinstance(c, type):
        return f"an instance of {c.__name__}"
    return getattr(c, "__doc__", None) or repr(c)


def check_params(estimator: Any) -> None:
    """Check every hyperparameter of ``estimator`` against its ``_constraints`` table.

    ``_constraints`` maps a parameter name to a list of accepted constraints
    (any one may match). The message follows scikit-learn's::

        The 'tol' parameter of DawidSkene must be a float in the range [0, inf). Got -1 instead.
    """
    table: dict[str, list[Constraint]] = getattr(estimator, "_constraints", {})
    for name, constraints in table.items():
        value = getattr(estimator, name)
        if any(_accepts(c, value) for c in constraints):
            continue
        wanted = " or ".join(_describe(c) for c in constraints)
        raise InputError(
            f"The {name!r} parameter of {type(estimator).__name__} must be {wanted}. "
            f"Got {value!r} instead."
        )


def check_pred_probs(
    pred_probs: Any,
    *,
    n_rows: int | None = None,
    n_classes: int | None = None,
    name: str = "pred_probs",
    atol: float = 1e-3,
) -> np.ndarray:
    """Validate an out-of-sample probability matrix without copying it.

    Parameters
    ----------
    pred_probs : array-like of shape (N, K)
        Rows are probability distributions over the K classes.
    n_rows, n_classes : int, optional
        Expected shape; a mismatch raises ``InputError`` naming both shapes.
    name : str
        How the array is called in messages (e.g. the file name).
    atol : float
        Tolerance on row sums.

    Returns
    -------
    pred_probs : ndarray of shape (N, K), float32 or float64
        The input itself when it already is a float ndarray (memory maps stay maps).
    """
    arr = np.asarray(pred_probs)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"{name} must hold numbers; got dtype {arr.dtype}.")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    if arr.ndim != 2:
        raise InputError(f"{name} must be a 2-D array (N items, K classes); got shape {arr.shape}.")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise InputError(
            f"{name} has {arr.shape[0]} rows but the data has {n_rows} items; "
            "pass probabilities for exactly the rows of the data, in the same order."
        )
    if n_classes is not None and arr.shape[1] != n_classes:
        raise InputError(
            f"{name} has {arr.shape[1]} columns but there are {n_classes} classes; "
            "columns must follow the sorted class list."
        )
    # Check in blocks so a 10M x 20 memory map is never copied whole.
    block = max(1, 2_000_000 // max(arr.shape[1], 1))
    for start in range(0, arr.shape[0], block):
        chunk = arr[start : start + block]
        bad = ~np.isfinite(chunk)
        if bad.any():
            row = start + int(np.argwhere(bad)[0, 0])
            raise InputError(f"{name} row {row} contains NaN or infinite values.")
        if (chunk < 0).any():
            row = start + int(np.argwhere(chunk < 0)[0, 0])
            raise InputError(f"{name} row {row} contains negative values; probabilities are >= 0.")
        sums = chunk.sum(axis=1, dtype=np.float64)
        off = np.abs(sums - 1.0) > atol
        if off.any():
            row = start + int(np.flatnonzero(off)[0])
            raise InputError(
                f"{name} row {row} sums to {sums[row - start]:.4f}, not 1; "
                "pass probabilities (apply softmax to logits first)."
            )
    return arr


def check_labels(
    labels: Any, *, n_classes: int | None = None, n_rows: int | None = None, name: str = "labels"
) -> IntArray:
    """Validate integer-coded labels in ``[0, n_classes)``.

    Returns
    -------
    labels : ndarray of shape (N,), int64
    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-D; got shape {arr.shape}.")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InputError(
                f"{name} must be integer class codes 0..K-1; got dtype {arr.dtype}. "
                "Encode class names first (truelabel.io does this for tables)."
            )
    if n_rows is not None and arr.shape[0] != n_rows:
        raise InputError(f"{name} has length {arr.shape[0]} but pred_probs has {n_rows} rows.")
    if arr.size and arr.min() < 0:
        raise InputError(f"{name} contains negative code {int(arr.min())}; codes are 0..K-1.")
    if n_classes is not None and arr.size and arr.max() >= n_classes:
        raise InputError(
            f"{name} contains code {int(arr.max())} but there are only {n_classes} classes."
        )
    return arr.astype(np.int64, copy=False)


def check_listen_address(host: str, port: int) -> None:
    """Refuse a port outside 1-65535 or an address that cannot be bound, before loading.

    Raises
    ------
    InputError
        Naming the address and the reason (in use, no such interface, not permitted).
    """
    import socket

    if not (isinstance(port, int) and 1 <= port <= 65535):
        raise InputError(f"--port must be between 1 and 65535; got {port!r}.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, addr = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(addr)
    except OSError as exc:
        raise InputError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port, "
            "stop the program using it, or fix --host."
        ) from None
