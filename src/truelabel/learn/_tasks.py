"""The train stage's task dispatch: ``TRAIN_TASKS.get(task)(data, **options)``."""

from __future__ import annotations

from .._tasks import TaskRegistry
from ._artifact import train_model
from ._table_artifact import train_multilabel, train_regression
from ._token_artifact import train_tagger

__all__ = ["TRAIN_TASKS"]

TRAIN_TASKS = TaskRegistry("train")
TRAIN_TASKS.register("classification")(train_model)
TRAIN_TASKS.register("multilabel")(train_multilabel)
TRAIN_TASKS.register("token")(train_tagger)
TRAIN_TASKS.register("regression")(train_regression)
