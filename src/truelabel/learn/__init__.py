"""End models that resist label noise, and the trained-model artifact.

- :class:`RobustLogisticRegression`, :class:`RobustMLPClassifier`: ``fit(X, y_or_soft)``
  with losses ``ce``, ``gce``, ``sce``, ``elr`` and schemes ``plain``, ``smallloss``,
  ``coteach`` (PyTorch for training; prediction is NumPy).
- :class:`PruneAndRetrain`: cross-fit, audit, drop or relabel flagged items, retrain.
- :class:`DistilledClassifier`, :func:`distillation_targets`: learn from a teacher's
  soft labels.
- Weaker supervision: :class:`PUClassifier` (positives and unlabeled rows, nnPU, with
  :func:`estimate_class_prior`), :class:`PartialLabelClassifier` (candidate sets,
  PRODEN), :class:`LabelProportionClassifier` (bag proportions, DLLP + EM),
  :func:`train_weak_model` (the table side of all three).
"""

from __future__ import annotations

from typing import Any

from .._optional import import_extra as _import_extra

_LAZY = {
    "RobustLogisticRegression": "._models",
    "RobustMLPClassifier": "._models",
    "PruneAndRetrain": "._schemes",
    "DistilledClassifier": "._schemes",
    "distillation_targets": "._schemes",
    "TrainedModel": "._artifact",
    "load_model": "._artifact",
    "train_model": "._artifact",
    "predict_table": "._artifact",
    "create_app": "._serve",
    "CRFTagger": "._tagger",
    "TrainedTagger": "._token_artifact",
    "entity_f1": "._token_artifact",
    "load_tagger": "._token_artifact",
    "model_task": "._token_artifact",
    "predict_tokens": "._token_artifact",
    "train_tagger": "._token_artifact",
    "write_conll": "._token_artifact",
    "TRAIN_TASKS": "._tasks",
    "TableTaskModel": "._table_artifact",
    "train_multilabel": "._table_artifact",
    "train_regression": "._table_artifact",
    "PUClassifier": "._pu",
    "estimate_class_prior": "._pu",
    "bbe_prior": "._pu",
    "elkan_noto_prior": "._pu",
    "PartialLabelClassifier": "._partial",
    "parse_candidates": "._partial",
    "LabelProportionClassifier": "._llp",
    "bag_constrained_posterior": "._llp",
    "train_weak_model": "._weak",
    "serve_model": "._serve",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(_import_extra(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'truelabel.learn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
