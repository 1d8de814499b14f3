"""The aggregate stage's task dispatch for label types beyond classes and numbers.

Class and numeric votes go through :func:`truelabel.aggregate.aggregate`; other task
types register their aggregation here, beside each other.
"""

from __future__ import annotations

from .._tasks import TaskRegistry
from ._multilabel import aggregate_multilabel
from ._spans import aggregate_spans

__all__ = ["AGGREGATE_TASKS"]

AGGREGATE_TASKS = TaskRegistry("aggregate")
AGGREGATE_TASKS.register("token")(aggregate_spans)
AGGREGATE_TASKS.register("multilabel")(aggregate_multilabel)
