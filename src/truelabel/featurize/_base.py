"""The featurizer contract."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeAlias, runtime_checkable

import numpy as np
import scipy.sparse as sp

__all__ = ["Featurizer", "Features"]

Features: TypeAlias = np.ndarray | sp.csr_matrix


@runtime_checkable
class Featurizer(Protocol):
    """Turns texts into a feature matrix.

    Attributes
    ----------
    name : str
        Registry name (``minilm``, ``static``, ``tfidf``).
    model_id : str
        Identifies the model *and* every parameter that changes the output; part of the
        cache key.
    """

    name: str
    model_id: str

    def transform(self, texts: Sequence[str]) -> Features:
        """Featurize ``texts``.

        Parameters
        ----------
        texts : sequence of str, length N

        Returns
        -------
        X : ndarray of shape (N, D), float32, L2-normalised rows; or a CSR matrix
            (``tfidf``).
        """
        ...
