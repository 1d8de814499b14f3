"""Turning supervision into votes: label columns, crowd tables, labeling functions,
zero-shot similarity and LLM labelers.

Every kind of supervision becomes the long Votes table ``(item_id, source, label, weight?)``.
"""

from __future__ import annotations

from typing import Any

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
# Imported on first use (PEP 562): they pull in httpx, sentence encoders and friends,
# which commands that only read votes (``aggregate``, ``lf``) never need.
_LAZY: dict[str, str] = {
    "ClassSpec": "._zeroshot_classes",
    "LLMCache": "._llm_cache",
    "LLMLabeler": "._llm",
    "LLMResult": "._llm",
    "LabelResult": "._zeroshot",
    "SELECTION_STRATEGIES": "._select",
    "Taxonomy": "._taxonomy",
    "ZeroShotLabeler": "._zeroshot",
    "budget_curve": "._select",
    "ctfidf_keywords": "._taxonomy",
    "dump_classes": "._zeroshot_classes",
    "induce_taxonomy": "._taxonomy",
    "label": "._zeroshot",
    "label_with_llm": "._llm",
    "load_classes": "._zeroshot_classes",
    "match_label": "._llm",
    "parse_classes": "._zeroshot_classes",
    "render_prompt": "._llm",
    "select_items": "._select",
    "self_train_proba": "._zeroshot",
    "taxonomy": "._taxonomy",
    "zero_shot_proba": "._zeroshot",
}

__all__ += sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'truelabel.sources' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# --- end zero-shot, LLM labelers ---
