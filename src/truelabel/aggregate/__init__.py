"""Label models: many noisy sources (crowd workers, labeling functions, LLMs) -> one posterior.

Class labels: the models take a :class:`truelabel.sources.VoteArrays` and follow the
scikit-learn estimator conventions (``fit(votes, gold=None)``, ``predict_proba``).
Numeric labels: :class:`NumericMean`, :class:`NumericMedian` and
:class:`SourceBiasVariance` take a :class:`truelabel.sources.NumericVotes`
(``fit(votes, gold=None)``, ``predict``, ``predict_interval``).
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
from ._numeric import (
    NUMERIC_METHODS,
    BaseNumericModel,
    NumericMean,
    NumericMedian,
    SourceBiasVariance,
    make_numeric_model,
)
from ._numeric_result import (
    NumericAggregateResult,
    aggregate_numeric_votes,
    krippendorff_alpha_interval,
)
from ._quality import krippendorff_alpha, source_quality, spammer_score
from ._result import AggregateResult, aggregate, aggregate_votes

__all__ = [
    "MACE",
    "METHODS",
    "NUMERIC_METHODS",
    "AggregateResult",
    "AutoChoice",
    "BaseLabelModel",
    "BaseNumericModel",
    "BestSource",
    "DawidSkene",
    "FeatureDawidSkene",
    "GLAD",
    "MajorityVote",
    "MatrixCompletionLabelModel",
    "NumericAggregateResult",
    "NumericMean",
    "NumericMedian",
    "OneCoinDawidSkene",
    "PooledDawidSkene",
    "SourceBiasVariance",
    "WeightedVote",
    "aggregate",
    "aggregate_numeric_votes",
    "aggregate_votes",
    "crossfit_soft_proba",
    "krippendorff_alpha",
    "krippendorff_alpha_interval",
    "make_label_model",
    "make_numeric_model",
    "select_label_model",
    "source_quality",
    "spammer_score",
]


# `truelabel.aggregate` is both this package and the function `truelabel.aggregate(...)`.
make_module_callable(__name__, aggregate)
