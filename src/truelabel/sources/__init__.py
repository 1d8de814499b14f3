"""Turning supervision into votes: label columns, crowd tables, labeling functions,
zero-shot similarity and LLM labelers.

Every kind of supervision becomes the long Votes table ``(item_id, source, label, weight?)``.
"""

from __future__ import annotations

# Re-exports are added below, one block per module (votes/LFs, zero-shot, LLM, taxonomy).

__all__: list[str] = []

# --- votes and labeling functions (issue 3) ---
from ._lf import (  # noqa: E402
    LabelingFunction,
    apply_lfs,
    keyword_lf,
    labeling_function,
    lf_analysis,
    regex_lf,
    threshold_lf,
)
from ._votes import (  # noqa: E402
    VoteArrays,
    check_votes,
    votes_from_columns,
    votes_from_matrix,
    votes_from_table,
)

__all__ += [
    "LabelingFunction",
    "VoteArrays",
    "apply_lfs",
    "check_votes",
    "keyword_lf",
    "labeling_function",
    "lf_analysis",
    "regex_lf",
    "threshold_lf",
    "votes_from_columns",
    "votes_from_matrix",
    "votes_from_table",
]
# --- end votes and labeling functions ---
