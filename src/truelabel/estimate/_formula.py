"""A tiny formula parser: ``"y ~ x1 + x2"`` with an intercept unless ``- 1`` / ``+ 0``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._errors import InputError

__all__ = ["Formula", "parse_formula"]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$|^`[^`]+`$")


@dataclass(frozen=True)
class Formula:
    """A parsed formula.

    Attributes
    ----------
    outcome : str
    covariates : tuple of str
        Column names in formula order (no interactions or transforms).
    intercept : bool
    """

    outcome: str
    covariates: tuple[str, ...]
    intercept: bool

    @property
    def terms(self) -> list[str]:
        """Coefficient names: ``"Intercept"`` first when present."""
        return (["Intercept"] if self.intercept else []) + list(self.covariates)

    @property
    def variables(self) -> list[str]:
        return [self.outcome, *self.covariates]


def parse_formula(formula: str) -> Formula:
    """Parse ``"y ~ x1 + x2"``; ``"y ~ 1"`` is the intercept alone.

    Names are column names (wrap odd ones in backticks: ``"`my col` ~ x"``).
    Only ``+`` between plain columns is supported; ``- 1`` or ``+ 0`` drops the
    intercept.

    Raises
    ------
    InputError
        No ``~``, an empty side, or a term that is not a plain column name.
    """
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise InputError(
            f"formula {formula!r}: write it as 'y ~ x1 + x2' (one '~', outcome on the left)."
        )
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs or not rhs:
        raise InputError(f"formula {formula!r}: both sides of '~' need a column name.")
    intercept = True
    rhs = re.sub(r"\s*-\s*1\s*$", lambda _: " + __drop_intercept__", rhs)
    covs: list[str] = []
    for raw in rhs.split("+"):
        term = raw.strip()
        if term in ("0", "__drop_intercept__"):
            intercept = False
            continue
        if term == "1":
            continue
        if not _NAME.match(term):
            raise InputError(
                f"formula {formula!r}: term {term!r} is not a plain column name; only "
                "'y ~ x1 + x2' is supported (add transformed columns to the table first)."
            )
        covs.append(term.strip("`"))
    if not _NAME.match(lhs):
        raise InputError(f"formula {formula!r}: the outcome {lhs!r} must be one column name.")
    if not covs and not intercept:
        raise InputError(f"formula {formula!r}: no terms left; keep the intercept or add one.")
    if len(set(covs)) != len(covs):
        raise InputError(f"formula {formula!r}: a column appears twice on the right side.")
    return Formula(lhs.strip("`"), tuple(covs), intercept)
