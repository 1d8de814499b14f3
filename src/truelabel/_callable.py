"""Let a stage package double as its main function.

``truelabel.audit`` is both the package of array-level functions
(``truelabel.audit.find_label_issues``) and the one-call API
(``truelabel.audit(df, text=..., label=...)``). Whichever way the package was
imported first, calling it calls the function.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["make_module_callable"]


def make_module_callable(module_name: str, func: Callable[..., Any]) -> None:
    """Make ``sys.modules[module_name](...)`` call ``func(...)``."""

    class _CallableModule(types.ModuleType):
        __doc__ = sys.modules[module_name].__doc__

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

    sys.modules[module_name].__class__ = _CallableModule
