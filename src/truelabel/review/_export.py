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


def _decide(labels: pd.Series, classes: list[str]) -> tuple[str, str]:
    counts = labels.value_counts()
    top = counts[counts == counts.max()].index.tolist()
    winner = min(top, key=classes.index)  # ties: lowest class index
    if len(counts) == 1:
        return winner, "review"
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
    with RunDir(out, kind="review", overwrite=overwrite, meta={"project": project}) as run:
        run.write_parquet("labels.parquet", labels)
        labels.to_csv(run.file("labels.csv"), index=False)
        run.write_parquet("gold.parquet", gold)
        gold.to_csv(run.file("gold.csv"), index=False)
        run.write_parquet("reviewers.parquet", reviewers)
        reviewers.to_csv(run.file("reviewers.csv"), index=False)
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

    Returns
    -------
    labels, gold, reviewers : DataFrame
    summary : dict
    """
    with db.reader() as s:
        data = _collect(s, project)
    p = data["project"]
    classes: list[str] = list(p.classes)
    items: pd.DataFrame = data["items"]
    rev: pd.DataFrame = data["reviews"]
    tasks: pd.DataFrame = data["tasks"]
    labelled = rev[rev["label"].notna()]
    decided: dict[str, tuple[str, str, int]] = {}
    for key, g in labelled.groupby("item_id", sort=False):
        lab, src = _decide(g["label"], classes)
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
        },
    }
    return labels, gold, reviewers, summary
