"""Multi-label votes (each source picks any subset of the options): one yes/no decision per
(item, option), aggregated with the existing label models.

A source that answered an item and did not pick an option voted *no* for it. ``ds`` (default)
fits one binary Dawid–Skene over all (item, option) pairs, so each source has one skill
(sensitivity and specificity) shared by every option — many more votes per source than a
per-option fit; ``ds_per_class`` fits each option separately; ``mv`` is the per-option majority.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..io import RunDir, read_table

__all__ = ["MULTILABEL_METHODS", "MultilabelAggregateResult", "aggregate_multilabel"]

MULTILABEL_METHODS = ("ds", "ds_per_class", "mv")
_SEP = "\x1f"  # joins item id and option into one binary item id


@dataclass
class MultilabelAggregateResult:
    """Consensus tag sets.

    Attributes
    ----------
    labels : DataFrame
        ``item_id``, ``label`` (chosen options joined with ``label_sep``), ``n_sources``,
        ``p_<option>`` (posterior that the option applies).
    posterior : ndarray of shape (n_items, n_options)
    options : list of str
    summary : dict
    """

    labels: pd.DataFrame
    posterior: np.ndarray
    options: list[str]
    summary: dict[str, Any] = field(default_factory=dict)

    def save(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``labels.parquet`` and ``summary.json`` atomically into ``out``."""
        with RunDir(out, kind="aggregate", overwrite=overwrite, meta=self.summary) as run:
            run.write_parquet("labels.parquet", self.labels)
            run.write_json("summary.json", self.summary)
        return Path(out)


def aggregate_multilabel(
    votes: str | Path | pd.DataFrame,
    *,
    item_column: str = "item_id",
    source_column: str = "source",
    label_column: str = "label",
    label_sep: str = ",",
    method: str = "ds",
    classes: list[str] | None = None,
    random_state: int = 0,
    gold: str | Path | pd.DataFrame | None = None,
    gold_item_column: str | None = None,
    gold_label_column: str | None = None,
) -> MultilabelAggregateResult:
    """Aggregate multi-select votes into one tag set per item.

    Parameters
    ----------
    votes : path or DataFrame
        One row per (item, source) answer; ``label_column`` holds the chosen options (a list,
        or a string joined by ``label_sep``; empty = none chosen).
    method : {"ds", "ds_per_class", "mv"}
    classes : list of str, optional
        All options (default: those chosen at least once).
    random_state : int
    gold : path or DataFrame, optional
        Gold tag sets (e.g. ``gold.parquet`` of ``truelabel review export``), joined by
        ``label_sep``: each (item, option) of a gold item is clamped to chosen / not chosen.
    gold_item_column, gold_label_column : str, optional
        Default ``item_column`` / ``label_column``.

    Returns
    -------
    MultilabelAggregateResult
    """
    from ..audit._table_tasks import _tag_matrix, parse_tag_sets
    from ._result import aggregate

    if method not in MULTILABEL_METHODS:
        raise InputError(
            f"--method {method} does not aggregate multi-label votes; use "
            f"{', '.join(MULTILABEL_METHODS)}."
        )
    df = read_table(votes)
    missing = [c for c in (item_column, source_column, label_column) if c not in df.columns]
    if missing:
        raise InputError(
            f"the votes have no column {missing[0]!r} (columns: {', '.join(map(str, df.columns))})."
        )
    sets = parse_tag_sets(df[label_column].tolist(), label_sep)
    Y, options = _tag_matrix(sets)
    if classes:
        extra = sorted(set(options) - set(classes))
        if extra:
            raise InputError(f"votes choose options not in --classes: {extra[:5]}.")
        pos = [options.index(c) if c in options else -1 for c in classes]
        Y = np.stack([Y[:, j] if j >= 0 else np.zeros(len(df), dtype=Y.dtype) for j in pos], axis=1)
        options = list(classes)
    if not options:
        raise InputError("no vote chooses any option; nothing to aggregate.")
    n_opt = len(options)
    item = df[item_column].astype(str).to_numpy()
    source = df[source_column].astype(str).to_numpy()
    binary = pd.DataFrame(
        {
            "item_id": np.char.add(
                np.repeat(item, n_opt).astype(str),
                np.char.add(_SEP, np.tile(np.asarray(options, dtype=str), len(df))),
            ),
            "option": np.tile(np.arange(n_opt), len(df)),
            "source": np.repeat(source, n_opt),
            "label": Y.reshape(-1).astype(np.int64),
        }
    )
    items = np.unique(item)
    post = np.zeros((len(items), n_opt), dtype=np.float64)
    gold_binary, n_gold = None, 0
    if gold is not None:
        gi, gl = gold_item_column or item_column, gold_label_column or label_column
        g = read_table(gold)
        if gi not in g.columns or gl not in g.columns:
            raise InputError(
                f"--gold has no column {gi if gi not in g.columns else gl!r} "
                f"(columns: {', '.join(map(str, g.columns))}); set --gold-item-column / "
                "--gold-label-column."
            )
        gsets = parse_tag_sets(g[gl].tolist(), label_sep)
        unknown = sorted({t for s in gsets for t in s} - set(options))
        if unknown:
            raise InputError(f"--gold chooses options no vote knows: {unknown[:5]}.")
        Yg, gtags = _tag_matrix(gsets)
        G = np.zeros((len(g), n_opt), dtype=np.int64)
        G[:, pd.Index(options).get_indexer(pd.Index(gtags))] = Yg
        gid = g[gi].astype(str).to_numpy()
        n_gold = int(np.isin(np.unique(gid), items).sum())
        gold_binary = pd.DataFrame(
            {
                "item_id": np.char.add(
                    np.repeat(gid, n_opt).astype(str),
                    np.char.add(_SEP, np.tile(np.asarray(options, dtype=str), len(g))),
                ),
                "option": np.tile(np.arange(n_opt), len(g)),
                "label": G.reshape(-1),
            }
        )

    def fit(sub: pd.DataFrame, name: str, option: int | None = None) -> None:
        g = gold_binary
        if g is not None:
            g = g[g["item_id"].isin(sub["item_id"])]
            if option is not None:
                g = g[g["option"] == option]
        agg: Any = aggregate(
            sub[["item_id", "source", "label"]],
            method=name,
            classes=[0, 1],
            random_state=random_state,
            label_type="categorical",
            gold=None if g is None or not len(g) else g[["item_id", "label"]],
        )
        p1 = np.asarray(agg.posterior)[:, list(np.asarray(agg.classes)).index(1)]
        ids = pd.Series(np.asarray(agg.item_ids).astype(str))
        parts = ids.str.split(_SEP, n=1, expand=True, regex=False)
        rows = pd.Index(items).get_indexer(pd.Index(parts[0]))
        cols = pd.Index(options).get_indexer(pd.Index(parts[1]))
        post[rows, cols] = p1

    if method == "ds_per_class":
        for j in range(n_opt):  # one fit per option
            fit(binary[binary["option"] == j], "ds", j)
    else:
        fit(binary, method)
    chosen = post > 0.5
    opt = np.asarray(options, dtype=object)
    label = [label_sep.join(opt[row]) for row in chosen]
    n_src = pd.Series(source).groupby(item).nunique().reindex(items).to_numpy()
    labels = pd.DataFrame({"item_id": items, "label": label, "n_sources": n_src})
    probs = pd.DataFrame(post.astype(np.float32), columns=[f"p_{o}" for o in options])
    labels = pd.concat([labels, probs], axis=1)
    summary = {
        "command": "aggregate",
        "label_type": "multilabel",
        "method": method,
        "n_items": int(len(items)),
        "n_sources": int(len(np.unique(source))),
        "n_votes": int(len(df)),
        "options": options,
        "label_sep": label_sep,
        "n_gold_items": n_gold,
        "chosen_rate": dict(zip(options, chosen.mean(axis=0).round(5).tolist(), strict=True)),
    }
    return MultilabelAggregateResult(
        labels=labels, posterior=post, options=options, summary=summary
    )
