"""Helpers of the scale tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import numpy as np


def noisy_probs(n: int, k: int, seed: int, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Labels (N,) with ``noise`` of them resampled and float32 probabilities (N, K)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) * 2
    logits[np.arange(n), y] += 2
    given = np.where(rng.random(n) < noise, rng.integers(0, k, n), y)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return given, p.astype(np.float32)
