"""``audit --task token``: cross-fit a tagger, then rank token and entity label issues."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..io import RunDir
from ..io._tokens import TokenDataset, load_conll, load_span_table
from ..report import ReportMixin
from ._api import StageCallback, _Timer
from ._tokens import ENTITY_ISSUE_KINDS, EntityIssues, decode_tags, find_entity_issues

__all__ = ["TokenAuditResult", "audit_tokens", "audit_token_dataset", "load_token_data"]

logger = logging.getLogger(__name__)


@dataclass(repr=False)
class TokenAuditResult(ReportMixin):
    """The outcome of a token (NER / span) label audit.

    Attributes
    ----------
    issues : DataFrame
        One row per token, most suspicious first: ``sentence_id``, ``token_index``,
        ``token``, ``given_label``, ``suggested_label``, ``given_prob``,
        ``suggested_prob``, ``label_quality`` (in [0, 1], lower = more likely wrong),
        ``is_label_issue``, ``entity_issue`` (the kind of the entity region the token is
        in, ``none`` outside issues); plus ``line`` (CoNLL input), ``file_label`` (the
        tag as written when the scheme was converted to IOB2), ``item_id``,
        ``char_start``, ``char_end`` (span-table input).
    entities : DataFrame
        One row per region of overlapping given/suggested entities, most suspicious
        first: ``sentence_id``, ``start``, ``end`` (token indices in the sentence, end
        exclusive), ``text``, ``given_label``, ``suggested_label`` (entity types,
        ``O`` for none, ``|``-joined when a region holds several), ``issue`` (kind),
        ``label_quality``, ``is_label_issue``, ``given_entities``,
        ``suggested_entities`` (``"[start, end) TYPE"`` lists), ``context``.
    summary : dict
    pred_probs : ndarray of shape (T, K)
        Out-of-sample tag probabilities, tokens in input order.
    tag_names : list of str
    """

    issues: pd.DataFrame
    entities: pd.DataFrame
    summary: dict[str, Any]
    pred_probs: np.ndarray
    tag_names: list[str]
    computed_pred_probs: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        s = self.summary
        c = s.get("counts", {})
        return (
            f"TokenAuditResult(n_sentences={s.get('n_sentences')}, "
            f"n_entities={s.get('n_entities')}, entity_issues={c.get('entity_issues')}, "
            f"token_issues={c.get('token_issues')})"
        )

    def _render_report(self) -> str:
        from ._token_report import render_token_report

        return render_token_report(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        s = self.summary
        c = s.get("counts", {})
        return [
            ("sentences", s.get("n_sentences")),
            ("tokens", s.get("n_tokens")),
            ("given entities", s.get("n_entities")),
            ("flagged entity regions", c.get("entity_issues")),
            ("flagged tokens", c.get("token_issues")),
        ] + [("warning", w) for w in s.get("warnings", [])]

    def _repr_frame(self) -> tuple[str, Any]:
        cols = [
            c
            for c in ("sentence_id", "text", "given_entities", "suggested_entities", "issue")
            if c in self.entities.columns
        ]
        return "top entity issues", self.label_issues[cols]

    @property
    def label_issues(self) -> pd.DataFrame:
        """The flagged entity regions, most suspicious first."""
        return self.entities[self.entities["is_label_issue"]]

    def save(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``issues.parquet``, ``entities.parquet``, ``summary.json``, ``report.html``
        (and ``pred_probs.npy`` when computed) atomically into ``out``."""
        from ..report import write_report
        from ._token_report import render_token_report

        with RunDir(
            out,
            kind="audit",
            overwrite=overwrite,
            meta={"task": "token", "settings": self.summary.get("settings", {})},
        ) as run:
            run.write_parquet("issues.parquet", self.issues)
            run.write_parquet("entities.parquet", self.entities)
            run.write_json("summary.json", self.summary)
            write_report(run, render_token_report(self))
            if self.computed_pred_probs:
                run.write_npy("pred_probs.npy", np.asarray(self.pred_probs, dtype=np.float32))
        return Path(out)


def load_token_data(
    data: str | Path | pd.DataFrame,
    *,
    spans: str | Path | pd.DataFrame | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
) -> TokenDataset:
    """A CoNLL/IOB file, or (with ``spans`` or ``text_column``) items plus a span table."""
    if spans is None and text_column is None:
        if isinstance(data, pd.DataFrame):
            raise InputError(
                "token data as a DataFrame needs its texts and spans: pass text_column and "
                "spans (a table item_id, start, end, label), or a CoNLL file path."
            )
        return load_conll(data)
    return load_span_table(data, spans, text_column=text_column or "text", id_column=id_column)


def audit_tokens(
    data: str | Path | pd.DataFrame,
    *,
    spans: str | Path | pd.DataFrame | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    pred_probs: str | Path | np.ndarray | None = None,
    folds: int = 5,
    random_state: int = 0,
    on_stage: StageCallback | None = None,
) -> TokenAuditResult:
    """Audit token labels (NER tags / entity spans): which tokens and entities are wrong.

    Parameters
    ----------
    data : path or DataFrame
        A CoNLL/IOB file (one token per line, the tag in the last column, blank lines
        between sentences, ``-DOCSTART-`` lines as document separators; IOB2, IOB1,
        BIOES or plain type tags), or — with ``spans`` — a table of items with a text
        column.
    spans : path or DataFrame, optional
        Long table of character spans ``item_id, start, end, label`` (end exclusive).
    text_column, id_column : str, optional
        Columns of ``data`` for span input (default ``text`` and the row number).
    pred_probs : path to ``.npy`` or ndarray of shape (T, K), optional
        Your own out-of-sample tag probabilities, one row per token in file order,
        columns in the order of ``summary["tags"]`` (``O``, then ``B-``/``I-`` of each
        sorted type); skips the cross-fitting.
    folds : int
        Folds of the cross-fitting (over sentences).
    random_state : int
        Seeds every random step.
    on_stage : callable(stage, "start"|"done"), optional

    Returns
    -------
    TokenAuditResult
    """
    timer = _Timer(on_stage)
    with timer.stage("load"):
        ds = load_token_data(data, spans=spans, text_column=text_column, id_column=id_column)
    probs = None
    if pred_probs is not None:
        from ..io import load_array

        probs = load_array(pred_probs) if isinstance(pred_probs, str | Path) else pred_probs
        probs = np.asarray(probs, dtype=np.float32)
        if probs.shape != (ds.n_tokens, len(ds.tag_names)):
            raise InputError(
                f"--pred-probs has shape {probs.shape} but the data has {ds.n_tokens} tokens "
                f"and {len(ds.tag_names)} tags {ds.tag_names}; give one row per token and one "
                "column per tag in that order."
            )
    res = audit_token_dataset(
        ds, pred_probs=probs, folds=folds, random_state=random_state, on_stage=on_stage
    )
    res.summary["timings_s"] = {**timer.times, **res.summary["timings_s"]}
    return res


def audit_token_dataset(
    ds: TokenDataset,
    *,
    pred_probs: np.ndarray | None = None,
    folds: int = 5,
    random_state: int = 0,
    on_stage: StageCallback | None = None,
) -> TokenAuditResult:
    """Audit a loaded :class:`~truelabel.io.TokenDataset` (see :func:`audit_tokens`)."""
    from ..crossfit._tokens import cross_val_token_marginals

    if ds.tags is None:
        raise InputError("the data has no tags to audit.")
    if len(ds.tag_names) < 3:
        raise InputError(
            f"{ds.name}: every token is tagged O; an audit needs at least one entity type."
        )
    timer = _Timer(on_stage)
    computed = pred_probs is None
    with timer.stage("crossfit"):
        if pred_probs is None:
            pred_probs = cross_val_token_marginals(
                ds.tokens,
                ds.offsets,
                ds.tags,
                ds.tag_names,
                n_folds=folds,
                random_state=random_state,
            )
    with timer.stage("audit"):
        issues, entities, ent, ent_flag, flag = _audit_tokens(ds, pred_probs)
    summary = _summary(
        ds, ent, ent_flag, flag, pred_probs, timer.times, folds, random_state, computed
    )
    return TokenAuditResult(
        issues=issues,
        entities=entities,
        summary=summary,
        pred_probs=pred_probs,
        tag_names=list(ds.tag_names),
        computed_pred_probs=computed,
    )


def _audit_tokens(
    ds: TokenDataset, pred_probs: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, EntityIssues, np.ndarray, np.ndarray]:
    """The token and entity tables from out-of-sample tag probabilities."""
    from . import find_label_issues

    assert ds.tags is not None
    tags = ds.tags
    suggested = decode_tags(pred_probs, ds.offsets)
    ent = find_entity_issues(tags, pred_probs, ds.offsets, suggested=suggested)
    # token flags: confident learning over all tokens (as cleanlab's token_classification
    # does), kept where the valid IOB2 suggestion also differs from the given tag
    k = len(ds.tag_names)
    present = np.bincount(tags, minlength=k) > 0
    cl = np.zeros(ds.n_tokens, dtype=bool)
    if present.sum() >= 2:
        cl = find_label_issues(tags, pred_probs, min_examples_per_class=0)
    flag = cl & (suggested != tags)
    tok_region = _region_of_tokens(ent, ds.n_tokens)
    ent_flag = np.zeros(len(ent.kind), dtype=bool)
    if len(ent.kind):
        has = tok_region >= 0
        np.logical_or.at(ent_flag, tok_region[has], flag[has])
    ent_flag &= ent.kind != 0
    issues = _token_table(ds, pred_probs, suggested, flag, ent, tok_region)
    entities = _entity_table(ds, ent, ent_flag)
    return issues, entities, ent, ent_flag, flag


def _region_of_tokens(ent: EntityIssues, n_tokens: int) -> np.ndarray:
    """Region index of every token (-1 outside regions)."""
    out = np.full(n_tokens, -1, dtype=np.int64)
    lens = ent.end - ent.start
    if lens.sum():
        idx = np.repeat(ent.start, lens) + (
            np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        )
        out[idx] = np.repeat(np.arange(len(lens)), lens)
    return out


def _token_table(
    ds: TokenDataset,
    probs: np.ndarray,
    suggested: np.ndarray,
    flag: np.ndarray,
    ent: EntityIssues,
    tok_region: np.ndarray,
) -> pd.DataFrame:
    from ._tokens import get_token_label_quality

    assert ds.tags is not None
    names = np.asarray(ds.tag_names, dtype=object)
    rows = np.arange(ds.n_tokens)
    kinds = np.asarray(ENTITY_ISSUE_KINDS, dtype=object)
    region_kind = np.where(tok_region >= 0, ent.kind[np.maximum(tok_region, 0)], 0)
    cols: dict[str, Any] = {
        "sentence_id": ds.sentence_of_token(),
        "token_index": ds.token_index(),
        "token": ds.tokens.astype(str),
        "given_label": names[ds.tags],
        "suggested_label": names[suggested],
        "given_prob": np.asarray(probs[rows, ds.tags], dtype=np.float32),
        "suggested_prob": np.asarray(probs[rows, suggested], dtype=np.float32),
        "label_quality": get_token_label_quality(ds.tags, probs),
        "is_label_issue": flag,
        "entity_issue": kinds[region_kind],
    }
    if ds.line is not None:
        cols["line"] = ds.line
    if ds.file_tags is not None:
        cols["file_label"] = ds.file_tags.astype(str)
    if ds.item_ids is not None:
        cols["item_id"] = ds.item_ids[cols["sentence_id"]]
        cols["char_start"] = ds.char_start
        cols["char_end"] = ds.char_end
    df = pd.DataFrame(cols)
    order = np.lexsort((rows, df["label_quality"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


def _entity_strings(
    reg: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    types: np.ndarray,
    sent_start: np.ndarray,
    type_names: np.ndarray,
    n_reg: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per region: ``|``-joined types (``O`` for none) and ``[s, e) TYPE`` lists."""
    lab = np.full(n_reg, "O", dtype=object)
    desc = np.full(n_reg, "", dtype=object)
    if len(reg):
        one = pd.DataFrame(
            {
                "r": reg,
                "t": type_names[types],
                "d": "["
                + (starts - sent_start).astype(str)
                + ", "
                + (ends - sent_start).astype(str)
                + ") "
                + type_names[types],
            }
        )
        g = one.groupby("r", sort=True)
        joined_t = g["t"].agg(" | ".join)
        joined_d = g["d"].agg("; ".join)
        lab[joined_t.index.to_numpy()] = joined_t.to_numpy()
        desc[joined_d.index.to_numpy()] = joined_d.to_numpy()
    return lab, desc


def _entity_table(ds: TokenDataset, ent: EntityIssues, flag: np.ndarray) -> pd.DataFrame:
    assert ds.tags is not None
    n_reg = len(ent.kind)
    types = np.asarray(ds.entity_types, dtype=object)
    sent_start = ds.offsets[:-1][ent.sentence] if n_reg else np.zeros(0, dtype=np.int64)
    tok = ds.tokens.astype(str)
    text = _join_ranges(tok, ent.start, ent.end)
    # context: the sentence with the region in [brackets]
    s_lo, s_hi = ds.offsets[:-1][ent.sentence], ds.offsets[1:][ent.sentence]
    left = _join_ranges(tok, np.maximum(s_lo, ent.start - 8), ent.start)
    right = _join_ranges(tok, ent.end, np.minimum(s_hi, ent.end + 8))
    context = (left + " [" + text + "] " + right).astype(str)
    context = np.char.strip(context.astype(str)).astype(object)
    # every entity of each side, described in its region
    first_tok = ds.offsets[:-1][ds.sentence_of_token()]
    sides = []
    for sp in (ent.given, ent.suggested):
        sides.append(
            _entity_strings(sp.region, sp.start, sp.end, sp.type, first_tok[sp.start], types, n_reg)
        )
    (g_lab, g_desc), (s_lab, s_desc) = sides
    kinds = np.asarray(ENTITY_ISSUE_KINDS, dtype=object)
    cols: dict[str, Any] = {
        "sentence_id": ent.sentence,
        "start": ent.start - sent_start,
        "end": ent.end - sent_start,
        "text": text,
        "given_label": g_lab,
        "suggested_label": s_lab,
        "issue": kinds[ent.kind],
        "label_quality": ent.quality,
        "is_label_issue": flag,
        "given_entities": g_desc,
        "suggested_entities": s_desc,
        "context": context,
    }
    if ds.item_ids is not None and ds.char_start is not None and ds.char_end is not None:
        cols["item_id"] = ds.item_ids[ent.sentence] if n_reg else np.zeros(0, dtype=object)
        cols["char_start"] = ds.char_start[ent.start] if n_reg else np.zeros(0, dtype=np.int64)
        cols["char_end"] = ds.char_end[ent.end - 1] if n_reg else np.zeros(0, dtype=np.int64)
    if ds.line is not None:
        cols["line"] = ds.line[ent.start] if n_reg else np.zeros(0, dtype=np.int64)
    df = pd.DataFrame(cols)
    order = np.lexsort((np.arange(n_reg), ~flag, df["label_quality"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


def _join_ranges(tokens: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``" ".join(tokens[s:e])`` for every range, via one pass over the covered tokens."""
    lens = np.maximum(end - start, 0)
    out = np.full(len(start), "", dtype=object)
    if lens.sum() == 0:
        return out
    idx = np.repeat(start, lens) + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens))
    seg = np.repeat(np.arange(len(start)), lens)
    joined = pd.Series(tokens[idx]).groupby(seg, sort=True).agg(" ".join)
    out[joined.index.to_numpy()] = joined.to_numpy()
    return out


#: below this entity F1 between the given and the suggested entities the summary warns
#: that the tagger is too weak for its flags to be read one by one (CoNLL-2003 dev, 3,250
#: sentences, reaches 0.89; its first 112 sentences alone 0.31)
WEAK_TAGGER_F1 = 0.7


def entity_agreement_f1(ent: EntityIssues) -> float:
    """Entity-level F1 of the suggested entities against the given ones (exact span and
    type): how far the out-of-sample tagger reproduces the labels it audits."""
    n = int(max(ent.given.end.max(initial=0), ent.suggested.end.max(initial=0))) + 1
    key_g = (ent.given.start * n + ent.given.end) * 1024 + ent.given.type
    key_s = (ent.suggested.start * n + ent.suggested.end) * 1024 + ent.suggested.type
    total = len(key_g) + len(key_s)
    return 1.0 if total == 0 else 2.0 * float(np.isin(key_g, key_s).sum()) / total


def _summary(
    ds: TokenDataset,
    ent: EntityIssues,
    ent_flag: np.ndarray,
    flag: np.ndarray,
    probs: np.ndarray,
    times: dict[str, float],
    folds: int,
    seed: int,
    computed: bool,
) -> dict[str, Any]:
    from ._api import _versions

    assert ds.tags is not None
    types = ds.entity_types
    kinds = list(ENTITY_ISSUE_KINDS)
    n_given = int((ent.n_given).sum())
    per_kind = {kinds[i]: int(((ent.kind == i) & ent_flag).sum()) for i in range(1, len(kinds))}
    per_type = []
    g_type = ent.given_type
    for ti, t in enumerate(types):
        mine = (g_type == ti) | ((g_type < 0) & (ent.suggested_type == ti))
        per_type.append(
            {
                "type": t,
                "given_entities": int(((ent.given_type == ti) * ent.n_given).sum()),
                "flagged": int((mine & ent_flag).sum()),
                **{
                    k: int((mine & ent_flag & (ent.kind == i)).sum())
                    for i, k in enumerate(kinds)
                    if i
                },
            }
        )
    suggested_wrong = float((probs.argmax(axis=1) != ds.tags).mean())
    agreement = entity_agreement_f1(ent)
    notes = list(ds.notes)
    if computed and agreement < WEAK_TAGGER_F1:
        notes.append(
            f"the cross-fitted tagger reproduces only {agreement:.0%} of the given entities "
            f"(entity F1 over {ds.n_sentences:,} sentences), so many flags are the tagger's "
            "own errors: read them in label_quality order, or audit more sentences (or pass "
            "--pred-probs from a stronger tagger) for sharper flags."
        )
    return {
        "task": "token",
        "data": ds.name,
        "scheme": ds.scheme,
        "n_sentences": ds.n_sentences,
        "n_documents": int(len(np.unique(ds.doc))),
        "n_tokens": ds.n_tokens,
        "n_entities": n_given,
        "tags": list(ds.tag_names),
        "entity_types": types,
        "counts": {
            "token_issues": int(flag.sum()),
            "entity_issues": int(ent_flag.sum()),
            "entity_issues_by_kind": per_kind,
            "regions": int(len(ent.kind)),
        },
        "token_disagreement_rate": round(suggested_wrong, 6),
        "entity_agreement_f1": round(agreement, 6),
        "per_type": per_type,
        "notes": notes,
        "settings": {
            "folds": folds,
            "seed": seed,
            "tagger": "CRFTagger (hashed word/shape/affix/context features + static "
            "embeddings, linear-chain CRF)"
            if computed
            else None,
            "pred_probs_given": not computed,
        },
        "timings_s": dict(times),
        "versions": _versions(),
    }
