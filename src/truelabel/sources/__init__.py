"""Turning supervision into votes: label columns, crowd tables, labeling functions,
zero-shot similarity and LLM labelers.

Every kind of supervision becomes the long Votes table ``(item_id, source, label, weight?)``.
"""

from __future__ import annotations

# Re-exports are added below, one block per module (votes/LFs, zero-shot, LLM, taxonomy).

__all__: list[str] = []
