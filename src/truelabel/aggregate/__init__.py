"""Label models: many noisy sources (crowd workers, labeling functions, LLMs) -> one posterior.

All models take a :class:`truelabel.sources.VoteArrays` and follow the
scikit-learn estimator conventions (``fit(votes, gold=None)``, ``predict_proba``).
"""

from .._callable import make_module_callable
from ._auto import METHODS, AutoChoice, make_label_model, select_label_model
from ._base import BaseLabelModel
from ._best import BestSource
from ._dawid_skene import DawidSkene, OneCoinDawidSkene, PooledDawidSkene
from ._features import FeatureDawidSkene, crossfit_soft_proba
from ._glad import GLAD
from ._mace import MACE
from ._majority import MajorityVote, WeightedVote
from ._matrix_completion import MatrixCompletionLabelModel
from ._quality import krippendorff_alpha, source_quality, spammer_score
from ._result import AggregateResult, aggregate, aggregate_votes

__all__ = [
    "MACE",
    "METHODS",
    "AggregateResult",
    "AutoChoice",
    "BaseLabelModel",
    "BestSource",
    "DawidSkene",
    "FeatureDawidSkene",
    "GLAD",
    "MajorityVote",
    "MatrixCompletionLabelModel",
    "OneCoinDawidSkene",
    "PooledDawidSkene",
    "WeightedVote",
    "aggregate",
    "aggregate_votes",
    "crossfit_soft_proba",
    "krippendorff_alpha",
    "make_label_model",
    "select_label_model",
    "source_quality",
    "spammer_score",
]


# `truelabel.aggregate` is both this package and the function `truelabel.aggregate(...)`.
make_module_callable(__name__, aggregate)
