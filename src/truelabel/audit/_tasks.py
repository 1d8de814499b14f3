"""The audit's task dispatch: ``audit_task(task, data, **options)``.

One registry for the stage (:class:`truelabel._tasks.TaskRegistry`); each task type adds
its entry here, next to the others.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import InputError
from .._tasks import TaskRegistry
from ._api import audit
from ._table_tasks import audit_multilabel, audit_regression
from ._token_api import audit_tokens

__all__ = ["AUDIT_TASKS", "audit_task"]

AUDIT_TASKS = TaskRegistry("audit")
AUDIT_TASKS.register("classification")(audit)
AUDIT_TASKS.register("token")(audit_tokens)
AUDIT_TASKS.register("multilabel")(audit_multilabel)
AUDIT_TASKS.register("regression")(audit_regression)


def audit_task(task: str, data: str | Path | pd.DataFrame, **options: Any) -> Any:
    """Run the audit of ``task`` on ``data``.

    Parameters
    ----------
    task : {"classification", "multilabel", "token", "regression"}
    data : path or DataFrame
    **options
        Options of that task's audit function (for ``token``: :func:`audit_tokens`).

    Returns
    -------
    AuditResult or TokenAuditResult (the task's result type; each has ``save(out)``).

    Raises
    ------
    InputError
        A task this stage lacks, or an option that does not apply to the task.
    """
    func = AUDIT_TASKS.get(task)
    accepted = inspect.signature(func).parameters
    extra = sorted(k for k in options if k not in accepted)
    if extra:
        cli_name = {"random_state": "seed"}  # the CLI's flag for the Python name
        flags = ", ".join("--" + cli_name.get(k, k).replace("_", "-") for k in extra)
        raise InputError(f"{flags} does not apply to `audit --task {task}`; leave it out.")
    return func(data, **options)
