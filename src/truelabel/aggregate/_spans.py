"""``aggregate --label-type spans``: many sources' entity spans -> one tag sequence per item.

The span votes become one tag vote per (token, source) (:mod:`truelabel.sources._spans`);
a label model gives each token a posterior over IOB2 tags; the consensus is the most
likely *valid* tag sequence, read back as character spans.

Methods:

- ``ds`` (default): token-level :class:`DawidSkene` (each source a full confusion over
  tags), then the valid IOB2 sequence of the posterior (:func:`truelabel.audit.decode_tags`);
- ``hmm``: :class:`SequenceDawidSkene` — the same confusions plus a Markov chain over the
  true tags (HMM-crowd), Viterbi decoded;
- ``mv``: per-token majority vote, then the valid sequence.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ConvergenceWarning, InputError
from .._types import Float32Array, IntArray
from ..io._tokens import tags_to_spans
from ..sources._spans import span_votes_from_table
from ..sources._votes import VoteArrays

__all__ = ["SPAN_METHODS", "SpanAggregateResult", "aggregate_spans", "span_source_quality"]

logger = logging.getLogger(__name__)

SPAN_METHODS = ("ds", "hmm", "mv")


@dataclass
class SpanAggregateResult:
    """What span aggregation produced.

    Attributes
    ----------
    labels : DataFrame
        The consensus spans, one row each: ``item_id``, ``start``, ``end`` (characters,
        end exclusive), ``label``, ``text``, ``confidence`` (mean posterior of the
        span's tags) — the same shape as the input span table.
    tokens : DataFrame
        One row per token: ``item_id``, ``token_index``, ``token``, ``char_start``,
        ``char_end``, ``label`` (IOB2), ``confidence``, ``n_votes``.
    sources : DataFrame
        One row per source, worst first: items and token votes, token agreement with the
        consensus, span precision / recall / F1 against the consensus spans (exact
        match), the label model's estimated token accuracy.
    summary : dict
    posterior : ndarray of shape (T, K), float32
        Per-token posterior over ``tag_names``.
    tag_names : list of str
    """

    labels: pd.DataFrame
    tokens: pd.DataFrame
    sources: pd.DataFrame
    summary: dict[str, Any]
    posterior: Float32Array
    tag_names: list[str]

    def save(
        self, out: str | Path, *, overwrite: bool = False, meta: dict[str, Any] | None = None
    ) -> Path:
        """Write ``labels.parquet`` (spans), ``tokens.parquet``, ``sources.parquet``,
        ``summary.json`` and ``report.html`` atomically into ``out``."""
        from ._report import render_span_report
        from ._result import write_aggregate_run

        return write_aggregate_run(
            out,
            labels=self.labels,
            sources=self.sources,
            summary=self.summary,
            report_html=render_span_report(self),
            tables={"tokens.parquet": self.tokens},
            overwrite=overwrite,
            meta={"task": "token", **(meta or {})},
        )


def aggregate_spans(
    votes: str | Path | pd.DataFrame,
    data: str | Path | pd.DataFrame,
    *,
    item_column: str = "item_id",
    source_column: str = "source",
    start_column: str = "start",
    end_column: str = "end",
    label_column: str = "label",
    data_item_column: str | None = None,
    text_column: str = "text",
    method: str = "ds",
    random_state: Any = 0,
    gold: str | Path | pd.DataFrame | None = None,
) -> SpanAggregateResult:
    """Aggregate crowd spans into one tag sequence per item.

    Parameters
    ----------
    votes : path or DataFrame
        One row per marked span: ``item_id, source, start, end, label`` (characters,
        end exclusive); a row with empty start/end = the source saw the item and marked
        nothing. Every source that saw an item votes ``O`` on the tokens it did not mark.
    data : path or DataFrame
        The items' texts: ``data_item_column`` (default ``item_column``), ``text_column``.
    method : {"ds", "hmm", "mv"}
        See the module docstring.
    random_state : int or None
        Passed to the label model.
    gold : path or DataFrame, optional
        Gold spans in the votes' columns (e.g. ``gold_spans.parquet`` of ``truelabel
        review export``; a row with empty start/end = a gold item without spans). Their
        tokens are clamped; with ``ds`` and ``mv`` they also inform the sources' skill.

    Returns
    -------
    SpanAggregateResult
    """
    from ..audit._tokens import decode_tags
    from ._dawid_skene import DawidSkene
    from ._majority import MajorityVote
    from ._sequence import SequenceDawidSkene

    if method not in SPAN_METHODS:
        raise InputError(
            f"unknown --method {method!r} for spans; use one of {', '.join(SPAN_METHODS)}."
        )
    t0 = time.perf_counter()
    gold_names: list[str] = []
    if gold is not None:
        votes, gold_names = _with_gold(votes, gold, item_column, source_column)
    sv = span_votes_from_table(
        votes,
        data,
        gold_sources=gold_names,
        item_column=item_column,
        source_column=source_column,
        start_column=start_column,
        end_column=end_column,
        label_column=label_column,
        data_item_column=data_item_column,
        text_column=text_column,
    )
    ds, va = sv.tokens, sv.votes
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if method == "hmm":
            hmm = SequenceDawidSkene(random_state=random_state).fit(va.without_gold(), ds.offsets)
            post, tags = hmm.posterior_, hmm.labels_
            conf = hmm.confusion_
            n_iter, converged = hmm.n_iter_, hmm.converged_
        else:
            model = (DawidSkene if method == "ds" else MajorityVote)(random_state=random_state)
            model.fit(va)
            post = model.posterior_
            tags = decode_tags(post, ds.offsets)
            conf = np.asarray(model.confusion_)
            n_iter = int(getattr(model, "n_iter_", 0))
            converged = bool(getattr(model, "converged_", True))
    notes += [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    t_fit = time.perf_counter() - t0
    g = va.gold_labels()
    if (g >= 0).any():  # gold tokens take their gold tag
        post = np.array(post, dtype=np.float64)
        post[g >= 0] = np.eye(post.shape[1])[g[g >= 0]]
        tags = np.where(g >= 0, g, tags)
        notes.append(
            f"{int((g >= 0).sum())} tokens of {len(np.unique(ds.sentence_of_token()[g >= 0]))} "
            "gold items are clamped to the gold spans"
        )
    n_votes = np.bincount(va.item, minlength=ds.n_tokens)
    unseen = n_votes == 0
    tags = np.where(unseen, 0, tags)
    if unseen.any():
        notes.append(f"{int(unseen.sum())} tokens of items no source saw are tagged O")
    labels, tokens = _tables(ds, post, tags, n_votes)
    sources = span_source_quality(va, ds.offsets, tags, conf)
    n_items_seen = int((np.bincount(ds.sentence_of_token(), weights=n_votes > 0) > 0).sum())
    summary = {
        "task": "token",
        "label_type": "spans",
        "method": method,
        "method_reason": {
            "ds": "token-level Dawid–Skene, valid IOB2 decoding (the default)",
            "hmm": "Dawid–Skene with a Markov chain over true tags (HMM-crowd), Viterbi",
            "mv": "per-token majority vote, valid IOB2 decoding",
        }[method],
        "n_items": ds.n_sentences,
        "n_items_with_votes": n_items_seen,
        "n_tokens": ds.n_tokens,
        "n_sources": va.n_sources,
        "n_votes": va.n_votes,
        "n_spans": len(labels),
        "entity_types": ds.entity_types,
        "tags": list(ds.tag_names),
        "mean_confidence": float(tokens["confidence"].mean()) if len(tokens) else float("nan"),
        "n_iter": n_iter,
        "converged": converged,
        "notes": notes,
        "timings_s": {"read": round(t_read, 4), "fit": round(t_fit, 4)},
    }
    return SpanAggregateResult(
        labels=labels,
        tokens=tokens,
        sources=sources,
        summary=summary,
        posterior=np.asarray(post, dtype=np.float32),
        tag_names=list(ds.tag_names),
    )


def _with_gold(
    votes: str | Path | pd.DataFrame,
    gold: str | Path | pd.DataFrame,
    item_column: str,
    source_column: str,
) -> tuple[pd.DataFrame, list[str]]:
    """The votes plus the gold rows as sources ``gold:<source>`` (``gold`` when the gold
    has no source column), and those source names."""
    from ..io import read_table

    v = read_table(votes)
    g = read_table(gold)
    if item_column not in g.columns:
        raise InputError(
            f"--gold has no column {item_column!r} (columns: {list(g.columns)[:20]}); gold spans "
            "use the votes' columns (item_id, start, end, label)."
        )
    src = g[source_column].astype(str) if source_column in g.columns else "gold"
    g = g.assign(**{source_column: "gold:" + src})
    keep = [c for c in v.columns if c in g.columns]
    return pd.concat([v, g[keep]], ignore_index=True), sorted(set(g[source_column]))


def _tables(
    ds: Any, post: np.ndarray, tags: IntArray, n_votes: IntArray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = np.asarray(ds.tag_names, dtype=object)
    types = np.asarray(ds.entity_types, dtype=object)
    conf = post[np.arange(len(tags)), tags].astype(np.float32)
    sent = ds.sentence_of_token()
    tokens = pd.DataFrame(
        {
            "item_id": ds.item_ids[sent],
            "token_index": ds.token_index(),
            "token": ds.tokens.astype(str),
            "char_start": ds.char_start,
            "char_end": ds.char_end,
            "label": names[tags],
            "confidence": conf,
            "n_votes": n_votes.astype(np.int64),
        }
    )
    s, e, t = tags_to_spans(tags, ds.offsets)
    csum = np.concatenate([[0.0], np.cumsum(conf, dtype=np.float64)])
    item = sent[s] if len(s) else np.zeros(0, dtype=np.int64)
    c0, c1 = ds.char_start[s], ds.char_end[e - 1] if len(e) else ds.char_end[:0]
    texts = ds.texts[item]
    labels = pd.DataFrame(
        {
            "item_id": ds.item_ids[item],
            "start": c0.astype(np.int64),
            "end": c1.astype(np.int64),
            "label": types[t],
            "text": [tx[a:b] for tx, a, b in zip(texts, c0, c1, strict=True)],
            "confidence": ((csum[e] - csum[s]) / np.maximum(e - s, 1)).astype(np.float32),
        }
    )
    return labels, tokens


def span_source_quality(
    votes: VoteArrays, offsets: IntArray, consensus: IntArray, confusion: np.ndarray | None = None
) -> pd.DataFrame:
    """Each source against the consensus: token agreement and exact-span P / R / F1.

    Parameters
    ----------
    votes : VoteArrays
        Token tag votes (items = tokens).
    offsets : ndarray of shape (S + 1,), int
        Sentence boundaries of the tokens.
    consensus : ndarray of shape (T,), int
        Consensus tag codes.
    confusion : ndarray of shape (n_sources, K, K), optional
        The label model's confusions; adds ``estimated_accuracy`` (prior-weighted
        diagonal).

    Returns
    -------
    DataFrame
        One row per source, lowest span F1 first.
    """
    n = len(consensus)
    s_code = votes.source.astype(np.int64)
    order = np.lexsort((votes.item, s_code))
    src, item, lab = s_code[order], votes.item[order].astype(np.int64), votes.label[order]
    sent = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    # a source's votes in token order; a new block starts at a new source or sentence gap
    new = np.ones(len(item), dtype=bool)
    new[1:] = (
        (src[1:] != src[:-1]) | (item[1:] != item[:-1] + 1) | (sent[item[1:]] != sent[item[:-1]])
    )
    block_off = np.concatenate([np.flatnonzero(new), [len(item)]]).astype(np.int64)
    ws, we, wt = tags_to_spans(lab.astype(np.int64), block_off)
    w_src = src[ws] if len(ws) else np.zeros(0, dtype=np.int64)
    w_key = (item[ws] * (n + 1) + item[we - 1] + 1) * 1024 + wt if len(ws) else ws
    cs, ce, ct = tags_to_spans(consensus, offsets)
    c_key = (cs * (n + 1) + ce) * 1024 + ct
    hit = np.isin(w_key, c_key)
    n_src = votes.n_sources
    tp = np.bincount(w_src, weights=hit, minlength=n_src)
    n_pred = np.bincount(w_src, minlength=n_src).astype(float)
    # consensus spans inside the items each source saw
    pair = np.unique(src * (len(offsets) - 1) + sent[item])
    p_src, p_sent = pair // (len(offsets) - 1), pair % (len(offsets) - 1)
    spans_per_sent = (
        np.bincount(sent[cs], minlength=len(offsets) - 1)
        if len(cs)
        else np.zeros(len(offsets) - 1, dtype=np.int64)
    )
    n_true = np.bincount(p_src, weights=spans_per_sent[p_sent], minlength=n_src)
    agree = np.bincount(src, weights=(lab == consensus[item]), minlength=n_src)
    n_tok = np.bincount(src, minlength=n_src).astype(float)
    prec = np.divide(tp, n_pred, out=np.full(n_src, np.nan), where=n_pred > 0)
    rec = np.divide(tp, n_true, out=np.full(n_src, np.nan), where=n_true > 0)
    f1 = np.where((prec + rec) > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)
    df = pd.DataFrame(
        {
            "source": votes.source_names,
            "n_items": np.bincount(p_src, minlength=n_src).astype(np.int64),
            "n_token_votes": n_tok.astype(np.int64),
            "n_spans": n_pred.astype(np.int64),
            "token_agreement": np.divide(agree, n_tok, out=np.full(n_src, np.nan), where=n_tok > 0),
            "span_precision": prec,
            "span_recall": rec,
            "span_f1": f1,
        }
    )
    if confusion is not None and len(confusion):
        prior = np.bincount(consensus, minlength=confusion.shape[1]) / max(n, 1)
        diag = np.einsum("skk->sk", np.asarray(confusion, dtype=np.float64))
        df["estimated_accuracy"] = diag @ prior
    return df.sort_values(["span_f1", "source"], kind="stable").reset_index(drop=True)
