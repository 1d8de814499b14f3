"""The ``report.html`` of ``truelabel label`` runs: zero-shot and LLM labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..report import PALETTE, bar_chart, histogram, reliability_chart, render_report

if TYPE_CHECKING:
    from ._llm import LLMResult
    from ._zeroshot import LabelResult

__all__ = ["render_label_report", "render_llm_report"]

#: rows listed in the report's item tables (sortable and searchable)
MAX_ROWS = 500


def _count_chart(labels: pd.Series, classes: list[str], title: str) -> str:
    counts = labels.value_counts()
    vals = np.array([int(counts.get(c, 0)) for c in classes], dtype=float)
    return bar_chart(
        vals,
        classes,
        title=title,
        xlabel="items",
        value_labels=[f"{int(v):,}" for v in vals],
        max_bars=30,
    )


def _known_rows_reliability(res: LabelResult) -> str | None:
    """Reliability against the known labels (rows given with --label-column), if any."""
    from ..calibrate import reliability_diagram

    known = res.known_labels
    if known is None:
        return None
    names = [str(c) for c in res.summary["classes"]]
    codes = pd.Index(names).get_indexer(pd.Index(pd.Series(known, dtype=object).astype(str)))
    has = np.asarray(pd.notna(pd.Series(known, dtype=object))) & (codes >= 0)
    if has.sum() < 20:
        return None
    probs = res.labels[[f"p_{c}" for c in res.summary["classes"]]].to_numpy(dtype=np.float32)
    d = reliability_diagram(probs[has], codes[has], n_bins=10)
    return reliability_chart(
        d.bin_edges,
        d.confidence,
        d.accuracy,
        d.count,
        title="Reliability on the rows with a known label",
        against="share matching the known label",
    )


def render_label_report(res: LabelResult) -> str:
    """The page of a zero-shot labeling run."""
    s = res.summary
    classes = [str(c) for c in s["classes"]]
    conf = res.labels["confidence"].to_numpy(dtype=float)
    per = res.labels["label"].dropna().astype(str)
    if s.get("task") == "multilabel":  # one count per tag of each item
        per = per.str.split(s.get("label_sep", ","), regex=False).explode()
    charts = [
        {
            "svg": _count_chart(per, classes, "Items per class"),
            "caption": "A class with almost no items may be named too narrowly (or be rare).",
        },
        {
            "svg": histogram(
                conf,
                title="Confidence of the labels",
                xlabel="confidence (probability of the chosen class)",
                value_range=(0.0, 1.0),
            ),
            "caption": "Similarity-based probabilities; low values are the items to check first.",
        },
    ]
    rel = _known_rows_reliability(res)
    if rel is not None:
        charts.append(
            {
                "svg": rel,
                "caption": "These rows' labels were known and used in fitting, so this is "
                "optimistic; label a random sample to measure the accuracy on the rest.",
            }
        )
    table = res.labels[["item_id", "label", "confidence"]].copy()
    if res.texts is not None:
        table.insert(1, "text", list(res.texts))
    least = table.sort_values("confidence", kind="stable").head(MAX_ROWS)
    per_class = (
        table.groupby(table["label"].astype(str))["confidence"]
        .agg(["size", "mean"])
        .reindex(classes)
        .fillna({"size": 0})
        .reset_index()
    )
    per_class.columns = ["class", "items", "mean_confidence"]
    cards = [
        {"value": f"{s['n_items']:,}", "label": "items"},
        {"value": f"{s['n_classes']:,}", "label": "classes"},
        {"value": f"{s['mean_confidence']:.3f}", "label": "mean confidence", "tone": "neutral"},
        {"value": str(s["featurizer"]), "label": "featurizer"},
        {
            "value": "on" if s.get("refine") and s.get("refine_accepted", True) else "off",
            "label": "prototype refinement",
            "note": f"{s.get('n_iter', 0)} rounds"
            + ("" if s.get("refine_accepted", True) else "; undone: drifted from the names"),
        },
        {"value": "on" if s.get("self_train_accepted") else "off", "label": "self-training"},
    ]
    return render_report(
        "truelabel.sources",
        "label_report.html.j2",
        kind="label",
        title="Zero-shot labels",
        lead="Labels from the class names alone: each text goes to the class whose name and "
        "description it is most similar to (then refined on the data itself).",
        cards=cards,
        warnings=[],
        notes=[],
        charts=charts,
        tables=[
            {
                "id": "per-class",
                "title": "Classes",
                "columns": [
                    ("class", "class", "label"),
                    ("items", "items", "num"),
                    ("mean_confidence", "mean confidence", "prob"),
                ],
                "rows": per_class.to_dict("records"),
                "caption": "One row per class",
                "total": len(per_class),
            },
            {
                "id": "least-confident",
                "title": "Least confident items",
                "columns": [("item_id", "item", "text")]
                + ([("text", "text", "long")] if res.texts is not None else [])
                + [("label", "label", "label"), ("confidence", "confidence", "prob")],
                "rows": least.to_dict("records"),
                "caption": "Lowest confidence first",
                "total": len(table),
            },
        ],
    )


_LLM_LEADS = {
    "classification": "Labels from a language model behind an OpenAI-compatible endpoint: one "
    "prompt per item, the answer matched strictly to the class list; an answer naming no class "
    "is an abstain (no vote).",
    "multilabel": "Tags from a language model behind an OpenAI-compatible endpoint: one prompt "
    "per item asking for a JSON list of the classes that apply; names are matched to the class "
    "list ignoring case and spacing, others rejected; an answer with no list is an abstain.",
    "token": "Entity spans from a language model behind an OpenAI-compatible endpoint: one "
    "prompt per item asking for JSON spans (text, type, start); each span is checked against "
    "the item's text: offsets kept when exact, found again from the span text when wrong, the "
    "span rejected when its text is not in the item or its type is unknown; overlaps keep the "
    "earlier, then longer span.",
}


def render_llm_report(res: LLMResult) -> str:
    """The page of an LLM labeling run: what was asked, answered, cut off, and spent."""
    st = res.stats
    answers = res.answers
    classes = [str(c) for c in st.get("classes", [])] or sorted(
        {str(x) for x in res.votes["label"]}
    )
    task = st.get("task", "classification")
    charts = []
    if len(res.votes):
        per = res.votes["label"].dropna().astype(str)
        title, caption = "Items per class", "One vote per item (the majority over its samples)."
        if task == "multilabel":
            per = per.str.split(st.get("label_sep", ","), regex=False).explode()
            title, caption = "Items per tag", "An item counts once for each tag it got."
        elif task == "token":
            title, caption = "Spans per entity type", "Spans kept after the checks below."
        charts.append({"svg": _count_chart(per, classes, title), "caption": caption})
        conf = res.votes.get("confidence", pd.Series(dtype=float)).to_numpy(dtype=float)
        if len(conf) and np.nanstd(conf) > 0:
            charts.append(
                {
                    "svg": histogram(
                        conf,
                        title="Confidence of the answers",
                        xlabel="confidence (token probability or agreement of samples)",
                        value_range=(0.0, 1.0),
                    ),
                    "caption": "From token log-probabilities, or the agreement of several "
                    "samples (--llm-samples).",
                }
            )
    outcome = {
        "answered with a class": int(st["n_votes"]),
        "named no class (abstain)": int(st["n_abstain"]) - int(st.get("n_truncated", 0)),
        "cut off at max_tokens": int(st.get("n_truncated", 0)),
        "failed calls": int(st["n_failed"]),
        "skipped (budget)": int(st["n_skipped"]),
    }
    charts.append(
        {
            "svg": bar_chart(
                np.array(list(outcome.values()), dtype=float),
                list(outcome),
                title="What happened to each request",
                xlabel="requests",
                sort=False,
                value_labels=[f"{v:,}" for v in outcome.values()],
                colour=PALETTE["grey"],
            ),
            "caption": "A request is one item × one sample.",
        }
    )
    warnings = []
    if st.get("n_truncated"):
        warnings.append(
            f"{st['n_truncated']} answers were cut off at max_tokens={st.get('max_tokens')} "
            "before naming a class; raise --llm-max-tokens."
        )
    if st.get("stopped"):
        warnings.append(f"stopped early: {st['stopped']}; answers so far are cached.")
    if st.get("n_failed"):
        warnings.append(f"{st['n_failed']} calls failed; those items have no label.")
    if st.get("n_tags_repaired") or st.get("n_tags_rejected"):
        warnings.append(
            f"{st.get('n_tags_repaired', 0)} tags named a class with other case or spacing "
            f"(repaired); {st.get('n_tags_rejected', 0)} named no class (rejected)."
        )
    if task == "token":
        why = ", ".join(
            f"{st.get(f'n_spans_rejected_{r}', 0)} {r.replace('_', ' ')}"
            for r in ("malformed", "unknown_label", "not_found", "overlap")
        )
        warnings.append(
            f"{st.get('n_spans_given', 0)} spans proposed: {st.get('n_spans_exact', 0)} kept "
            f"with their offsets, {st.get('n_spans_repaired', 0)} repaired (offsets found "
            f"again from the span text), {st.get('n_spans_rejected', 0)} rejected ({why})."
        )
    cards = [
        {"value": f"{st['n_items']:,}", "label": "items sent"},
        {"value": f"{st['n_votes']:,}", "label": "labelled", "tone": "good"},
        {"value": f"{st['n_abstain']:,}", "label": "abstained", "tone": "bad"},
        {"value": f"{st.get('n_truncated', 0):,}", "label": "cut off (max_tokens)", "tone": "bad"},
        {
            "value": f"{st['n_calls']:,}",
            "label": "paid calls",
            "note": f"{st['n_cache_hits']:,} cache hits (free)",
        },
        {
            "value": f"{st['prompt_tokens'] + st['completion_tokens']:,}",
            "label": "tokens",
            "note": f"cost {st['cost']:.4f}",
        },
    ]
    shown = answers.copy()
    shown["status"] = np.where(
        shown["error"].notna(),
        "failed",
        np.where(
            shown["raw"].isna(),
            "skipped",
            np.where(shown["label"].isna(), "abstain", "answered"),
        ),
    )
    if "truncated" in shown.columns:
        shown.loc[shown["truncated"].fillna(False).astype(bool), "status"] = "cut off"
    order = shown["status"].map({"cut off": 0, "abstain": 1, "failed": 2, "skipped": 3})
    shown = shown.assign(_o=order.fillna(4)).sort_values(["_o", "confidence"], kind="stable")
    shown["raw"] = shown["raw"].fillna("").astype(str).str.slice(0, 300)
    shown["error"] = shown["error"].fillna("").astype(str).str.slice(0, 200)
    facts = [
        ("source name", st.get("source")),
        ("model", st.get("model")),
        ("structured output (JSON schema)", st.get("structured_output")),
        ("token log-probabilities", st.get("logprobs")),
        ("max_tokens per answer", st.get("max_tokens")),
        ("seconds", round(float(st.get("seconds", 0.0)), 1)),
    ]
    return render_report(
        "truelabel.sources",
        "label_report.html.j2",
        kind="label --llm",
        title="LLM labels",
        lead=_LLM_LEADS.get(task, _LLM_LEADS["classification"]),
        cards=cards,
        warnings=warnings,
        notes=[st["cache_rebuilt"]] if st.get("cache_rebuilt") else [],
        facts=facts,
        charts=charts,
        tables=[
            {
                "id": "answers",
                "title": "Answers",
                "columns": [
                    ("item_id", "item", "text"),
                    ("sample", "sample", "num"),
                    ("status", "status", "text"),
                    ("label", "label", "label"),
                    ("confidence", "confidence", "prob"),
                    ("raw", "raw answer", "long"),
                    ("error", "error", "long"),
                ],
                "rows": _plain_records(shown, MAX_ROWS),
                "caption": "Cut-off, abstained and failed requests first",
                "total": len(shown),
            }
        ],
    )


def _plain_records(df: pd.DataFrame, limit: int) -> list[dict[Any, Any]]:
    recs = df.head(limit).to_dict("records")
    for r in recs:
        for k, v in r.items():
            if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                r[k] = None
    return recs
