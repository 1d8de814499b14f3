"""Shared type aliases."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]
Float32Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.integer]
BoolArray = npt.NDArray[np.bool_]
RandomState = int | np.random.Generator | None

__all__ = ["BoolArray", "Float32Array", "FloatArray", "IntArray", "RandomState"]
