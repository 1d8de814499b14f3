"""Label models: many noisy sources (crowd workers, labeling functions, LLMs) -> one posterior.

All models take a :class:`truelabel.sources.VoteArrays` and follow the
scikit-learn estimator conventions (``fit(votes, gold=None)``, ``predict_proba``).
"""

from ._auto import METHODS, AutoChoice, make_label_model, select_label_model
from ._base import BaseLabelModel
from ._dawid_skene import DawidSkene, OneCoinDawidSkene, PooledDawidSkene
from ._features import FeatureDawidSkene, crossfit_soft_proba
from ._mace import MACE
from ._majority import MajorityVote, WeightedVote
from ._quality import krippendorff_alpha, source_quality, spammer_score
from ._result import AggregateResult, aggregate, aggregate_votes

__all__ = [
    "MACE",
    "METHODS",
    "AggregateResult",
    "AutoChoice",
    "BaseLabelModel",
    "DawidSkene",
    "FeatureDawidSkene",
    "MajorityVote",
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
# Once the package is imported, Python binds the attribute `truelabel.aggregate` to the
# module, so the module itself is made callable and forwards to the function.
def _make_callable() -> None:
    import sys
    import types
    from typing import Any

    class _CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> AggregateResult:
            return aggregate(*args, **kwargs)

    sys.modules[__name__].__class__ = _CallableModule


_make_callable()
