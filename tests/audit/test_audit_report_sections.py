"""The audit page shows how its probabilities were chosen: the model used and why, the
candidates' cross-fitted log-losses, and the neighbour-weight choice."""

from __future__ import annotations

import copy

from test_audit_near_chance import _table

from truelabel.audit import audit
from truelabel.audit._report import render_audit_page


def test_the_page_shows_the_model_used_and_the_candidates() -> None:
    res = audit(_table(), text="text", label="label", featurizer="tfidf")
    sel = res.summary["model_selection"]
    page = res.report()
    assert "Model selection" in page and f"Model used: <code>{sel['chosen']}</code>" in page
    reason = res.summary["settings"]["model_plan"]["reason"]
    assert not reason or "Why these candidates" in page
    # with two candidates (as `auto` compares) the table lists both with their scores
    s = copy.deepcopy(res.summary)
    first = sel["candidates"][0]
    other = dict(first, candidate="static+logistic", log_loss=0.98765, weight=0.0, note="lost")
    s["model_selection"]["candidates"] = [first, other]
    page = render_audit_page(s, res.issues)
    assert 'id="model-selection"' in page and "static+logistic" in page and "0.988" in page
    if "neighbor_weight_selection" in s:
        assert "Neighbour weight" in page
