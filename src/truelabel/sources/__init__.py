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
from ._lf_io import LFVotes, read_lf_votes  # noqa: E402
from ._numeric import (  # noqa: E402
    NumericVotes,
    check_numeric_votes,
    detect_label_type,
    numeric_votes_from_table,
)
from ._votes import (  # noqa: E402
    VoteArrays,
    check_votes,
    votes_from_columns,
    votes_from_matrix,
    votes_from_table,
)

__all__ += [
    "LFVotes",
    "LabelingFunction",
    "NumericVotes",
    "VoteArrays",
    "apply_lfs",
    "check_numeric_votes",
    "check_votes",
    "detect_label_type",
    "keyword_lf",
    "labeling_function",
    "lf_analysis",
    "numeric_votes_from_table",
    "read_lf_votes",
    "regex_lf",
    "threshold_lf",
    "votes_from_columns",
    "votes_from_matrix",
    "votes_from_table",
]
# --- end votes and labeling functions ---

# --- zero-shot, LLM labelers, budget selection, taxonomy (issue 5) ---
from ._llm import LLMLabeler, LLMResult, label_with_llm, match_label, render_prompt  # noqa: E402
from ._llm_cache import LLMCache  # noqa: E402
from ._select import SELECTION_STRATEGIES, budget_curve, select_items  # noqa: E402
from ._taxonomy import Taxonomy, ctfidf_keywords, induce_taxonomy, taxonomy  # noqa: E402
from ._zeroshot import (  # noqa: E402
    LabelResult,
    ZeroShotLabeler,
    label,
    self_train_proba,
    zero_shot_proba,
)
from ._zeroshot_classes import ClassSpec, dump_classes, load_classes, parse_classes  # noqa: E402

__all__ += [
    "ClassSpec",
    "LLMCache",
    "LLMLabeler",
    "LLMResult",
    "LabelResult",
    "SELECTION_STRATEGIES",
    "Taxonomy",
    "ZeroShotLabeler",
    "budget_curve",
    "ctfidf_keywords",
    "dump_classes",
    "induce_taxonomy",
    "label",
    "label_with_llm",
    "load_classes",
    "match_label",
    "parse_classes",
    "render_prompt",
    "select_items",
    "self_train_proba",
    "taxonomy",
    "zero_shot_proba",
]
# --- end zero-shot, LLM labelers ---
