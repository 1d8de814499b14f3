"""Kept for the featurize tests' imports; the implementation lives in ``tests/_shared.py``."""

from _shared import seed_models

__all__ = ["seed_models"]
