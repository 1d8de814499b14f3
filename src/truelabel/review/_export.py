"""``truelabel review export``: corrected labels, reviews as a gold source, reviewer statistics."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..io import RunDir
from . import crud
from ._labels import format_number, parse_spans, parse_tags, spans_to_iob
from .db import Database
from .models import Item, Task

__all__ = ["ExportResult", "build_export", "export_project"]

log = logging.getLogger(__name__)


@dataclass
class ExportResult:
    """What was exported (paths live in ``out``)."""

    out: Path
    n_items: int
    n_reviewed: int
    n_changed: int
    n_gold: int
    queue_complete: bool
    summary: dict[str, Any]


def _decide(
    labels: pd.Series, classes: list[str], task: str = "classification", sep: str = ","
) -> tuple[str, str]:
    """One item's label from its reviewers' (canonical) labels, and how it was reached.

    classification and token: the most common label (ties: the lowest class index; the
    first reviewer's span list). multilabel: each tag ticked by more than half of the
    reviewers (exactly half: kept, ``review:tie``). regression: the median.
    """
    counts = labels.value_counts(sort=False)
    if len(counts) == 1:
        return str(counts.index[0]), "review"
    if task == "regression":
        return format_number(float(np.median(labels.astype(np.float64)))), "review:median"
    if task == "multilabel":
        ticked = pd.Series([t for v in labels for t in parse_tags(v, sep)]).value_counts()
        half = len(labels) / 2
        keep = [c for c in classes if ticked.get(c, 0) >= half]
        tie = any(ticked.get(c, 0) == half for c in classes)
        return sep.join(keep), "review:tie" if tie else "review:majority"
    top = counts[counts == counts.max()].index.tolist()
    # ties: lowest class index (classification), first reviewer's spans (token)
    winner = min(top, key=classes.index) if task == "classification" else top[0]
    return winner, "review:majority" if len(top) == 1 else "review:tie"


def _collect(s: Session, project: str) -> dict[str, Any]:
    p = crud.get_project(s, project)
    items = pd.DataFrame(
        s.execute(
            select(Item.item_key, Item.given_label, Item.suggested_label, Item.suggested_prob)
            .where(Item.project_id == p.id)
            .order_by(Item.id)
        ).all(),
        columns=["item_id", "given_label", "suggested_label", "suggested_prob"],
    )
    tasks = pd.DataFrame(
        s.execute(
            select(Item.item_key, Task.sampling_prob, Task.status, Task.n_done)
            .join(Item, Task.item_id == Item.id)
            .where(Task.project_id == p.id)
        ).all(),
        columns=["item_id", "sampling_prob", "status", "n_done"],
    )
    return {
        "project": p,
        "items": items,
        "tasks": tasks,
        "reviews": crud.reviews_frame(s, p),
        "stats": crud.project_stats(s, project),
    }


def export_project(
    db: Database, project: str, out: str | Path, *, overwrite: bool = False
) -> ExportResult:
    """Write a review run folder (see :func:`build_export` for the files' columns).

    Returns
    -------
    ExportResult
    """
    labels, gold, reviewers, summary = build_export(db, project)
    task = summary["task"]
    with RunDir(
        out, kind="review", overwrite=overwrite, meta={"project": project, "task": task}
    ) as run:
        run.write_parquet("labels.parquet", labels)
        labels.to_csv(run.file("labels.csv"), index=False)
        run.write_parquet("gold.parquet", gold)
        gold.to_csv(run.file("gold.csv"), index=False)
        run.write_parquet("reviewers.parquet", reviewers)
        reviewers.to_csv(run.file("reviewers.csv"), index=False)
        if task == "token":
            with db.reader() as s:
                texts = crud.item_texts(s, project)
            spans = span_table(labels)
            run.write_parquet("spans.parquet", spans)
            spans.to_csv(run.file("spans.csv"), index=False)
            gspans = span_table(gold, keep=["source", "sampling_prob"], empty_rows=True)
            run.write_parquet("gold_spans.parquet", gspans)
            gspans.to_csv(run.file("gold_spans.csv"), index=False)
            items = pd.DataFrame({"item_id": list(texts), "text": list(texts.values())})
            run.write_parquet("texts.parquet", items)
            run.file("labels.conll").write_text(conll_text(labels, texts), encoding="utf-8")
        run.write_json("summary.json", summary)
    for w in summary["warnings"]:
        log.warning(w)
    return ExportResult(
        Path(out),
        summary["n_items"],
        summary["n_reviewed"],
        summary["n_changed"],
        summary["n_gold"],
        summary["queue_complete"],
        summary,
    )


def span_table(
    frame: pd.DataFrame, keep: list[str] | None = None, *, empty_rows: bool = False
) -> pd.DataFrame:
    """The long span table ``item_id, start, end, label`` (plus ``keep`` columns) of a
    frame whose ``label`` holds span lists (token projects).

    ``empty_rows`` adds one row with empty start/end/label for each item without spans
    (as span votes say "saw the item, marked nothing").
    """
    keep = keep or []
    rows: list[tuple[Any, ...]] = []
    for key, lab, *extra in frame[["item_id", "label", *keep]].itertuples(index=False):
        spans = parse_spans(lab) if lab is not None else []
        rows += [(key, a, b, t, *extra) for a, b, t in spans]
        if empty_rows and lab is not None and not spans:
            rows.append((key, None, None, None, *extra))
    out = pd.DataFrame(rows, columns=["item_id", "start", "end", "label", *keep])
    return out.astype({"start": "Int64", "end": "Int64"})


def conll_text(labels: pd.DataFrame, texts: dict[str, str]) -> str:
    """CoNLL/IOB2 text of the exported span lists: one ``token tag`` line per whitespace
    token of each item's text, a blank line between items (item order)."""
    blocks = []
    for key, lab in zip(labels["item_id"], labels["label"], strict=True):
        pairs = spans_to_iob(texts.get(str(key), ""), parse_spans(lab))
        blocks.append("\n".join(f"{tok} {tag}" for tok, tag in pairs))
    return "\n\n".join(blocks) + "\n"


def build_export(
    db: Database, project: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Corrected labels, the gold source, reviewer statistics and a summary of a project.

    Every table uses each reviewer's latest decision per item: a changed decision
    replaces the earlier one, an undone one is left out (``summary["decisions"]`` counts
    both; the full log is ``GET /api/projects/{p}/reviews``).

    Files
    -----
    labels.parquet / labels.csv
        One row per item: ``item_id, label, decision_source, given_label,
        suggested_label, n_reviews, changed``. ``decision_source`` is ``review``
        (unanimous), ``review:majority``, ``review:tie`` (lowest class index wins),
        ``given`` (not reviewed: the given label is kept) or ``suggested`` (not
        reviewed and no given label, as in aggregate/label runs: the model's label).
    gold.parquet / gold.csv
        The reviews as a gold source: ``item_id, source ("review:<reviewer>"),
        label, sampling_prob, reviewed_at`` — the labelled decisions only
        (ambiguous and skipped are left out). ``sampling_prob`` is the recorded
        probability that the item was selected for review; use it with
        ``truelabel aggregate --gold`` and ``truelabel estimate --sampling-prob-column sampling_prob``.
    reviewers.parquet / reviewers.csv
        Per-reviewer counts and agreement rates.
    summary.json
        Progress, the sampling design, whether the queue was finished, kappa and alpha.

    Labels keep the project's task format: a class; tags joined by the project's
    separator (multilabel, what ``audit --task multilabel`` and ``aggregate
    --label-type multilabel`` read); a float column (regression); a JSON span list
    (token; :func:`export_project` also writes ``spans.parquet`` / ``.csv`` with
    ``item_id, start, end, label``, ``gold_spans.parquet`` / ``.csv`` (one row with
    empty start/end for a reviewed item without spans; ``aggregate --label-type spans
    --gold`` reads it), ``texts.parquet`` (``item_id, text``: its ``--data``) and
    ``labels.conll``).
    Several reviewers of one item: see :func:`_decide`.

    Returns
    -------
    labels, gold, reviewers : DataFrame
    summary : dict
    """
    with db.reader() as s:
        data = _collect(s, project)
    p = data["project"]
    classes: list[str] = list(p.classes)
    task, sep = str(p.task), str(p.label_sep)
    items: pd.DataFrame = data["items"]
    rev: pd.DataFrame = data["reviews"]
    tasks: pd.DataFrame = data["tasks"]
    labelled = rev[rev["label"].notna()]
    decided: dict[str, tuple[str, str, int]] = {}
    for key, g in labelled.groupby("item_id", sort=False):
        lab, src = _decide(g["label"], classes, task, sep)
        decided[str(key)] = (lab, src, len(g))
    out_rows = []
    for key, given, sugg in zip(
        items["item_id"], items["given_label"], items["suggested_label"], strict=True
    ):
        if key in decided:
            lab, src, n = decided[key]
        elif given is not None:
            lab, src, n = given, "given", 0
        else:
            lab, src, n = sugg, "suggested", 0
        out_rows.append(
            {
                "item_id": key,
                "label": lab,
                "decision_source": src,
                "given_label": given,
                "suggested_label": sugg,
                "n_reviews": n,
                "changed": bool(n > 0 and given is not None and lab != given),
            }
        )
    labels = pd.DataFrame(
        out_rows,
        columns=[
            "item_id",
            "label",
            "decision_source",
            "given_label",
            "suggested_label",
            "n_reviews",
            "changed",
        ],
    )
    gold = pd.DataFrame(
        {
            "item_id": labelled["item_id"].astype(str),
            "source": "review:" + labelled["reviewer"].astype(str),
            "label": labelled["label"].astype(str),
            "sampling_prob": labelled["sampling_prob"].astype(np.float64),
            "reviewed_at": pd.to_datetime(labelled["reviewed_at"]).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
        }
    )
    if task == "regression":  # numbers as numbers, as audit and aggregate read them
        for frame, cols in (
            (labels, ("label", "given_label", "suggested_label")),
            (gold, ("label",)),
        ):
            for col in cols:
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    stats = data["stats"]
    reviewers = pd.DataFrame(stats["reviewers"])
    n_open = int((tasks["status"] == "open").sum()) if len(tasks) else 0
    complete = n_open == 0
    warnings = []
    if not complete:
        warnings.append(
            f"{n_open} of {len(tasks)} queued items are not reviewed yet: the recorded sampling "
            "probabilities describe the full queue, so estimates weighted by them are valid only "
            "once the queue is finished (or treat the unreviewed tasks as missing at random)."
        )
    summary = {
        "project": p.name,
        "task": task,
        "label_sep": sep,
        "classes": classes,
        "design": p.design,
        "overlap": p.overlap,
        "progress": stats["progress"],
        "queue_complete": complete,
        "n_open_tasks": n_open,
        "agreement": stats["agreement"],
        "decisions": stats["decisions"],
        "n_items": len(labels),
        "n_reviewed": len(decided),
        "n_changed": int(labels["changed"].sum()),
        "n_gold": len(gold),
        "warnings": warnings,
        "files": {
            "labels": "labels.parquet",
            "gold": "gold.parquet",
            "reviewers": "reviewers.parquet",
            **(
                {
                    "spans": "spans.parquet",
                    "gold_spans": "gold_spans.parquet",
                    "conll": "labels.conll",
                    "texts": "texts.parquet",
                }
                if task == "token"
                else {}
            ),
        },
    }
    return labels, gold, reviewers, summary
