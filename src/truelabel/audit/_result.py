"""``AuditResult``: what ``truelabel.audit`` returns and how it is saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import RunDir
from ..report import ReportMixin

__all__ = ["AuditResult"]


class IssueTableResult(ReportMixin):
    """What the item-level audit results share: the ``issues`` table, its preview and how
    a run folder is written (``issues.parquet``, ``summary.json``, ``report.html`` and
    extras)."""

    issues: pd.DataFrame
    summary: dict[str, Any]

    def _repr_frame(self) -> tuple[str, Any]:
        cols = [
            c
            for c in ("item_id", "text", "given_label", "suggested_label", "label_quality", "issue")
            if c in self.issues.columns
        ]
        return "top issues", self.issues.loc[self.issues["issue"] != "none", cols]

    @property
    def label_issues(self) -> pd.DataFrame:
        """The rows flagged as label issues, most suspicious first."""
        return self.issues[self.issues["is_label_issue"]]

    def _save_run(
        self,
        out: str | Path,
        *,
        overwrite: bool,
        meta: dict[str, Any],
        tables: dict[str, pd.DataFrame],
        arrays: dict[str, np.ndarray],
    ) -> Path:
        """Write ``issues.parquet``, ``tables`` (name -> frame), ``summary.json``,
        ``report.html`` and ``arrays`` (name -> array, saved as float32) atomically into
        ``out``; return its path."""
        from ..report import write_report

        with RunDir(out, kind="audit", overwrite=overwrite, meta=meta) as run:
            run.write_parquet("issues.parquet", self.issues)
            for name, df in tables.items():
                run.write_parquet(name, df)
            run.write_json("summary.json", self.summary)
            write_report(run, self._render_report())
            for name, arr in arrays.items():
                run.write_npy(name, np.asarray(arr, dtype=np.float32))
        return Path(out)


@dataclass(repr=False)
class AuditResult(IssueTableResult):
    """The outcome of a label audit.

    Attributes
    ----------
    issues : DataFrame
        One row per item, sorted by ``label_quality`` ascending (most suspicious first):
        ``item_id``, ``text`` (when there is text), ``given_label``, ``suggested_label``,
        ``given_prob``, ``suggested_prob``, ``label_quality`` in [0, 1] (lower = more likely
        mislabelled), ``is_label_issue``, ``is_outlier``, ``outlier_score``,
        ``duplicate_group`` (-1 = none), ``is_conflicting_duplicate``, ``neighbors``
        (ids of the nearest items, when features exist), ``issue`` (the main issue type)
        and ``reason`` (a sentence, for flagged rows).
    summary : dict
        Sizes, classes, noise estimates (overall, per class, noise matrix, prior),
        counts per issue type, per-class health, timings per stage, settings, versions.
    pred_probs : ndarray of shape (N, K)
        The out-of-sample probabilities the audit used (rows in input order).
    classes : list
        Class values; column ``k`` of ``pred_probs`` is ``classes[k]``.
    """

    issues: pd.DataFrame
    summary: dict[str, Any]
    pred_probs: np.ndarray
    classes: list[Any]
    computed_pred_probs: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"AuditResult(n={s.get('n')}, n_classes={s.get('n_classes')}, "
            f"noise_rate={float(s.get('noise_rate', float('nan'))):.3f}, "
            f"label_issues={s.get('counts', {}).get('label_error')})"
        )

    def _render_report(self) -> str:
        from ._report import render_audit_report

        return render_audit_report(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        s = self.summary
        agree = s.get("model_agreement") or {}
        facts: list[tuple[str, Any]] = [
            ("items", s.get("n")),
            ("classes", s.get("n_classes")),
            ("estimated wrong labels", f"{100 * float(s.get('noise_rate', 0)):.1f}%"),
        ]
        if agree:
            facts.append(("model's cross-validated accuracy", f"{100 * agree['accuracy']:.1f}%"))
        counts = s.get("counts", {})
        facts += [
            ("flagged label issues", counts.get("label_error")),
            ("conflicting near-duplicates", counts.get("conflicting_duplicate")),
            ("outliers", counts.get("outlier")),
        ]
        facts += [("warning", w) for w in s.get("warnings", [])]
        return facts

    def save(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``issues.parquet``, ``summary.json``, ``report.html`` (and
        ``pred_probs.npy`` when the audit computed them) atomically into ``out``.

        Returns
        -------
        Path of the published run folder.
        """
        return self._save_run(
            out,
            overwrite=overwrite,
            meta={"settings": self.summary.get("settings", {})},
            tables={"sources.parquet": self.extra["sources"]} if "sources" in self.extra else {},
            arrays={"pred_probs.npy": self.pred_probs} if self.computed_pred_probs else {},
        )
