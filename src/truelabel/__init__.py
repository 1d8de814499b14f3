"""truelabel: learn from imperfect labels.

Take whatever supervision there is — a noisy label column, disagreeing crowd
workers, labeling functions, LLMs, or only class names — and get back the most
likely true labels with calibrated confidence, the items worth a human look,
the reliability of each source, a noise-robust classifier and valid estimates.

Heavy submodules are imported lazily, so ``import truelabel`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._errors import ConvergenceWarning as ConvergenceWarning
from ._errors import InputError as InputError
from ._errors import NotFittedError as NotFittedError
from ._errors import ServiceError as ServiceError
from ._errors import TruelabelError as TruelabelError

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "AuditResult": "truelabel.audit",
    "audit": "truelabel.audit",
    "find_label_issues": "truelabel.audit",
    "get_label_quality_scores": "truelabel.audit",
    "featurize": "truelabel.featurize",
    "cross_val_predict_proba": "truelabel.crossfit",
    "load_dataset": "truelabel.io",
    "estimate": "truelabel.estimate",
    "plan_gold": "truelabel.estimate",
    "select_gold": "truelabel.estimate",
    "aggregate": "truelabel.aggregate",
    "LLMLabeler": "truelabel.sources",
    "ZeroShotLabeler": "truelabel.sources",
    "induce_taxonomy": "truelabel.sources",
    "select_items": "truelabel.sources",
    "load_model": "truelabel.learn",
    "train_model": "truelabel.learn",
    "RobustLogisticRegression": "truelabel.learn",
    "RobustMLPClassifier": "truelabel.learn",
    "PruneAndRetrain": "truelabel.learn",
    "DistilledClassifier": "truelabel.learn",
    "PUClassifier": "truelabel.learn",
    "PartialLabelClassifier": "truelabel.learn",
    "LabelProportionClassifier": "truelabel.learn",
    "TemperatureScaling": "truelabel.calibrate",
    "VectorScaling": "truelabel.calibrate",
    "ConformalClassifier": "truelabel.calibrate",
    "calibrate_probs": "truelabel.calibrate",
    "expected_calibration_error": "truelabel.calibrate",
    "audit_large": "truelabel.scale",
    "aggregate_large": "truelabel.scale",
    "predict_large": "truelabel.scale",
    "ChunkedDawidSkene": "truelabel.scale",
}

__all__ = sorted(
    [
        "ConvergenceWarning",
        "InputError",
        "NotFittedError",
        "ServiceError",
        "TruelabelError",
        "__version__",
        *_LAZY,
    ]
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        # `audit`, `aggregate`, `estimate` are packages that are also callable (see
        # _callable.py): keep the package, so `import truelabel.audit` stays the package.
        value = module if module.__name__ == f"truelabel.{name}" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'truelabel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
