"""Read audit / aggregate / label run directories into the shapes the database stores.

Lenient about extra columns: only the ones named here are read; missing optional
columns get defaults.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._tasks import DEFAULT_TASK, check_task
from ..io import read_table
from ._labels import Span, canonical_label, spans_json

__all__ = ["TOP_PROBS", "LoadedRun", "load_run"]

log = logging.getLogger(__name__)

_KINDS = ("audit", "aggregate", "label")


@dataclass
class LoadedRun:
    """A run directory, read.

    Attributes
    ----------
    kind : str
        ``audit``, ``aggregate`` or ``label``.
    classes : list of str
    items : DataFrame
        Columns ``item_key, text, given_label, suggested_label, suggested_prob,
        label_quality, is_label_issue, is_outlier, duplicate_group, neighbors, probs``.
    priority : ndarray of shape (n_items,)
        Worth of a human label in [0, 1]: ``1 - label_quality`` (audit) or
        ``1 - confidence`` (aggregate, label).
    votes : DataFrame or None
        ``item_key, source, label``.
    sources : DataFrame or None
        ``source, quality, stats`` (stats: a dict of the other numeric columns).
    fingerprint : str
        SHA-256 over ``run.json`` and the data files (same run → same fingerprint).
    task : str
        ``classification``, ``multilabel``, ``token`` or ``regression`` (labels are in the
        spelling of :mod:`truelabel.review._labels`; ``classes`` are the tags or entity
        types, empty for regression).
    label_sep : str
        Separator of multi-label tags.
    priority_reason : str
        What ``priority`` is, in words (recorded in the project's sampling design).
    """

    kind: str
    classes: list[str]
    items: pd.DataFrame
    priority: np.ndarray
    votes: pd.DataFrame | None
    sources: pd.DataFrame | None
    fingerprint: str
    path: Path
    summary: dict[str, Any] = field(default_factory=dict)
    task: str = DEFAULT_TASK
    label_sep: str = ","
    priority_reason: str = ""


def _fingerprint(path: Path, names: list[str]) -> str:
    h = hashlib.sha256()
    for name in names:
        p = path / name
        if p.is_file():
            h.update(name.encode())
            with p.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


def _str_or_none(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _group_or_none(v: Any) -> str | None:
    """Duplicate-group id; None for "no group" (NaN, empty, or a negative id like -1)."""
    s = _str_or_none(v)
    if s is None or s == "" or (s.lstrip("-").isdigit() and int(s) < 0):
        return None
    return s


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except json.JSONDecodeError:
            return [s for s in v.split(",") if s]
    if isinstance(v, np.ndarray | list | tuple):
        return [str(x) for x in list(v)]
    return []


#: model probabilities kept per item (the item page shows the top 5)
TOP_PROBS = 10


def _top_probs(pm: np.ndarray, names: list[str], k: int = TOP_PROBS) -> list[dict[str, float]]:
    """The ``k`` most probable classes of each row, as ``{class: probability}``.

    Parameters
    ----------
    pm : ndarray of shape (n_items, n_classes)
    names : list of str, length n_classes

    Returns
    -------
    list of dict, length n_items
        Most probable first; NaN probabilities are left out.
    """
    k = min(k, pm.shape[1])
    top = np.argsort(-np.nan_to_num(pm, nan=-1.0), axis=1, kind="stable")[:, :k]  # (n, k)
    vals = np.take_along_axis(pm, top, axis=1).round(6)
    cls = np.asarray(names, dtype=object)[top]
    return [
        {c: float(v) for c, v in zip(cr, vr, strict=True) if not np.isnan(v)}
        for cr, vr in zip(cls.tolist(), vals.tolist(), strict=True)
    ]


def _audit_probs(run: Path, df: pd.DataFrame, classes: list[str]) -> np.ndarray | None:
    """Rows of the audit's ``pred_probs.npy`` in the order of ``issues.parquet``.

    The issues table is sorted by label quality; its ``row`` column is each item's row in
    ``pred_probs.npy`` (input order). Audits written before that column existed give
    None (a warning says to re-run the audit).
    """
    path = run / "pred_probs.npy"
    probs = np.load(path, mmap_mode="r")
    if probs.ndim != 2 or probs.shape[1] != len(classes):
        raise InputError(
            f"{path}: shape {probs.shape} does not match the {len(classes)} classes in "
            "summary.json; the run folder is damaged: re-run `truelabel audit` with this --out."
        )
    if "row" not in df.columns:
        log.warning(
            "%s: issues.parquet has no 'row' column, so the model probabilities cannot be "
            "matched to items; re-run `truelabel audit` to show them in the review app.",
            run,
        )
        return None
    rows = pd.to_numeric(df["row"], errors="coerce").to_numpy()
    if np.isnan(rows).any() or (rows < 0).any() or (rows >= probs.shape[0]).any():
        raise InputError(
            f"{run / 'issues.parquet'}: column 'row' must hold rows of pred_probs.npy "
            f"(0..{probs.shape[0] - 1}); re-run `truelabel audit` with this --out."
        )
    return np.asarray(probs[rows.astype(np.int64)], dtype=np.float64)


def _read_sources(p: Path) -> pd.DataFrame | None:
    """``source, quality, stats`` of the run's ``sources.parquet`` (None: no such table)."""
    if not (p / "sources.parquet").is_file():
        return None
    s = read_table(p / "sources.parquet")
    if "source" not in s.columns:
        return None
    qcol = next(
        (c for c in ("accuracy", "quality", "reliability", "estimated_accuracy") if c in s.columns),
        None,
    )
    num = s.select_dtypes("number")
    return pd.DataFrame(
        {
            "source": s["source"].astype(str),
            "quality": pd.to_numeric(s[qcol], errors="coerce") if qcol else np.nan,
            "stats": [
                {k: (None if pd.isna(val) else float(val)) for k, val in row.items()}
                for row in num.to_dict("records")
            ],
        }
    )


def _run_task(meta: dict[str, Any], summary: dict[str, Any], task: str | None) -> str:
    """The run's task: ``task`` when given, else what ``run.json`` / ``summary.json`` say."""
    # aggregate runs say label_type: multilabel (tag sets) or numeric (numbers)
    by_type = {"multilabel": "multilabel", "numeric": "regression"}
    found = (
        meta.get("task")
        or summary.get("task")
        or by_type.get(str(summary.get("label_type")))
        or DEFAULT_TASK
    )
    found = check_task(str(found))
    if task is None:
        return found
    task = check_task(task)
    if "task" in meta and task != found:
        raise InputError(
            f"--task {task} does not match the run's task {found!r} (run.json); "
            "leave --task out or import a run of that task."
        )
    return task


def _canonical_column(
    values: pd.Series, task: str, classes: list[str], sep: str, where: str
) -> pd.Series:
    """Given/suggested labels in the review's spelling (missing stays None)."""

    def one(v: Any) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        try:
            return canonical_label(task, v, classes, sep=sep)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None

    # one check per distinct value, not per item
    uniq = {v: one(v) for v in pd.unique(values.astype(object))}
    return values.astype(object).map(uniq)


def _token_items(p: Path, summary: dict[str, Any]) -> tuple[pd.DataFrame, np.ndarray]:
    """One review item per sentence of a token audit: its text (CoNLL input: the tokens
    joined by one space; span-table input: the item's own offsets and id), the given and
    suggested entities as character spans, and the audit's words.

    Returns
    -------
    items : DataFrame
        The columns of :attr:`LoadedRun.items`, one row per sentence (sentence order).
    priority : ndarray of shape (n_sentences,)
        ``1 - `` the lowest token label quality of the sentence.
    """
    from ..io._tokens import _code_tags, tags_to_spans

    tok = read_table(p / "issues.parquet")
    need = {"sentence_id", "token_index", "token", "given_label", "suggested_label"}
    if need - set(tok.columns):
        raise InputError(
            f"{p / 'issues.parquet'}: a token audit needs columns {sorted(need)}; "
            "re-run `truelabel audit --task token` with this --out."
        )
    tok = tok.sort_values(["sentence_id", "token_index"], kind="stable").reset_index(drop=True)
    sid = tok["sentence_id"].to_numpy(np.int64)
    sents, first = np.unique(sid, return_index=True)
    offsets = np.append(first, len(tok)).astype(np.int64)
    words = tok["token"].astype(str).to_numpy(dtype=object)
    lens = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    # character start of each token in its sentence's text (one space between tokens)
    cum = np.cumsum(lens + 1) - (lens + 1)
    char_start = cum - cum[np.repeat(first, np.diff(offsets))]
    char_end = char_start + lens
    keys = [str(int(k)) for k in sents]
    bounds = list(zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True))
    if {"item_id", "char_start", "char_end"} <= set(tok.columns):
        # a span-table audit: keep the items' ids and character offsets (every character
        # outside a token was whitespace; it becomes a space)
        char_start = tok["char_start"].to_numpy(np.int64)
        char_end = tok["char_end"].to_numpy(np.int64)
        keys = [_str_or_none(k) or "" for k in tok["item_id"].to_numpy()[first]]
        texts = []
        for a, b in bounds:
            buf = [" "] * int(char_end[a:b].max(initial=0))
            for w, c in zip(words[a:b].tolist(), char_start[a:b].tolist(), strict=True):
                buf[c : c + len(w)] = w
            texts.append("".join(buf))
    else:
        texts = [" ".join(words[a:b].tolist()) for a, b in bounds]
    n = len(sents)
    tag_names = [str(t) for t in summary.get("tags", [])] or None
    spans: dict[str, list[list[tuple[int, int, str]]]] = {}
    for col in ("given_label", "suggested_label"):
        codes, names = _code_tags(tok[col].astype(str).to_numpy(dtype=object), tag_names)
        tag_names = names
        st, en, ty = tags_to_spans(codes, offsets)
        types = [names[1 + 2 * t][2:] for t in range(len(names) // 2)]
        where = np.searchsorted(offsets, st, side="right") - 1
        per: list[list[tuple[int, int, str]]] = [[] for _ in range(n)]
        for i, a, b, t in zip(where, st, en, ty, strict=True):
            per[i].append((int(char_start[a]), int(char_end[b - 1]), types[t]))
        spans[col] = per
    lq = pd.to_numeric(tok.get("label_quality", pd.Series(np.nan, index=tok.index)))
    low = pd.Series(lq.to_numpy(np.float64)).groupby(sid).min().reindex(sents).to_numpy()
    flag = (
        tok["is_label_issue"].astype(bool).groupby(sid).any().reindex(sents).to_numpy()
        if "is_label_issue" in tok.columns
        else np.zeros(n, dtype=bool)
    )
    reason = [""] * n
    if (p / "entities.parquet").is_file():
        ent = read_table(p / "entities.parquet")
        if {"sentence_id", "issue", "is_label_issue"} <= set(ent.columns):
            bad = ent[ent["is_label_issue"].astype(bool)]
            pos = {int(k): i for i, k in enumerate(sents)}
            said = [
                f"{r.issue}: {r.text!r} given {r.given_label}, suggested {r.suggested_label}"
                for r in bad.itertuples()
            ]
            for k, w in zip(bad["sentence_id"].astype(int), said, strict=True):
                if k in pos:
                    j = pos[k]
                    reason[j] = f"{reason[j]}; {w}" if reason[j] else w
    items = _span_items_frame(
        keys,
        texts,
        spans["given_label"],
        spans["suggested_label"],
        prob=np.full(n, np.nan),
        quality=low,
        flag=flag,
        reasons=reason,
    )
    return items, 1.0 - low


def _span_items_frame(
    keys: list[str],
    texts: list[str],
    given: Sequence[list[Span] | None],
    suggested: Sequence[list[Span] | None],
    *,
    prob: np.ndarray,
    quality: np.ndarray,
    flag: np.ndarray,
    reasons: list[str],
) -> pd.DataFrame:
    """The :attr:`LoadedRun.items` of a span run: one row per item (text), its given and
    suggested spans as canonical JSON (``None``: no such label), the run's scores and its
    words (``reasons``, shown on the item page). Arrays have shape (n_items,)."""
    n = len(keys)
    return pd.DataFrame(
        {
            "item_key": keys,
            "text": texts,
            "given_label": [None if x is None else spans_json(x) for x in given],
            "suggested_label": [None if x is None else spans_json(x) for x in suggested],
            "suggested_prob": prob,
            "label_quality": quality,
            "is_label_issue": flag,
            "is_outlier": False,
            "duplicate_group": None,
            "meta": pd.Series([{"reason": r} if r else {} for r in reasons], dtype=object),
            "neighbors": [[] for _ in range(n)],
            "probs": pd.Series([{} for _ in range(n)], dtype=object),
        }
    )


def _read_texts(texts: str | Path) -> dict[str, str]:
    """``{item id: text}`` of a ``--texts`` table (columns ``item_id, text``)."""
    t = read_table(texts)
    if not {"item_id", "text"} <= set(t.columns):
        raise InputError(
            f"--texts {texts}: needs item_id and text columns (found {list(t.columns)[:10]})."
        )
    return dict(zip(t["item_id"].map(_str_or_none), t["text"].fillna("").astype(str), strict=True))


def _need(path: Path, cols: set[str], fix: str) -> pd.DataFrame:
    """The table at ``path`` when it exists and has ``cols``; else one line naming ``fix``."""
    if not path.is_file():
        raise InputError(f"{path.parent}: no {path.name}; {fix}")
    df = read_table(path)
    if cols - set(df.columns):
        raise InputError(f"{path}: needs columns {sorted(cols)}; {fix}")
    return df


def _span_lists(
    table: pd.DataFrame,
    keys: list[str],
    where: Path,
    text_of: dict[str, str],
    texts: str | Path,
    made_from: str,
) -> list[list[Span]]:
    """The spans of each item of ``keys`` from a long table ``item_id, start, end, label``
    (a row with empty offsets: the item has no span), in the table's row order.

    Every span must read the same in ``text_of`` (the ``--texts`` table) as in the run
    (its ``text`` column, when the run wrote one), else that table is not the one the run
    was made from (``made_from`` names it in the message).
    """
    t = table[table["start"].notna() & table["end"].notna()]
    item = t["item_id"].map(_str_or_none)
    pos = pd.Index(keys).get_indexer(pd.Index(item))
    if (pos < 0).any():
        bad = t["item_id"].iloc[int(np.flatnonzero(pos < 0)[0])]
        raise InputError(
            f"{where}: spans of item {bad!r}, which the run does not list; the run folder is "
            "damaged: re-run the command with this --out."
        )
    want = t["text"].astype(str).tolist() if "text" in t.columns else [None] * len(t)
    per: list[list[Span]] = [[] for _ in keys]
    for i, k, a, b, lab, w in zip(
        pos.tolist(),
        item.tolist(),
        t["start"].astype(np.int64).tolist(),
        t["end"].astype(np.int64).tolist(),
        t["label"].astype(str).tolist(),
        want,
        strict=True,
    ):
        txt = text_of[k]
        if b > len(txt) or (w is not None and txt[a:b] != w):
            raise InputError(
                f"--texts {texts}: item {k!r} reads {txt[a:b]!r} at [{a}, {b}), where the "
                f"run's span is {w!r}; pass the table the run was made from ({made_from})."
            )
        per[i].append((a, b, lab))
    return per


#: where the texts of a span run come from, named in the messages
_SPAN_DATA = {
    "aggregate": "the --data of `aggregate --label-type spans`",
    "label": "the DATA of `label --task token`, with its --id-column as item_id",
}


def _run_span_items(
    p: Path, kind: str, texts: str | Path | None
) -> tuple[pd.DataFrame, np.ndarray, str]:
    """One review item per text of a span aggregate or span label run; the run's spans
    are the suggestion (there is no given label).

    Priority (least certain first):

    - aggregate: ``1 -`` the lowest token posterior confidence of the item
      (``tokens.parquet``); 1 for an item no source saw (its ``O`` tags are a guess);
    - label: 1 for an item without a usable answer (failed, cut off, no JSON or not
      sent), else the share of the answer's spans that were not kept as given
      (repaired offsets or rejected spans, ``answers.parquet``); 0 for a clean answer.

    Returns
    -------
    items : DataFrame
        The columns of :attr:`LoadedRun.items`, one row per item (run order).
    priority : ndarray of shape (n_items,)
    reason : str
        What the priority is.
    """
    if texts is None:
        raise InputError(
            f"{p}: a span {kind} run does not keep the item texts; pass --texts TABLE with "
            f"item_id and text columns ({_SPAN_DATA[kind]})."
        )
    if kind == "aggregate":
        fix = "re-run `truelabel aggregate --label-type spans` with this --out."
        tok = _need(p / "tokens.parquet", {"item_id", "token", "confidence", "n_votes"}, fix)
        tok = tok.reset_index(drop=True)
        span_file = p / "labels.parquet"
        spans = _need(span_file, {"item_id", "start", "end", "label"}, fix)
        iid = tok["item_id"].map(_str_or_none)
        keys = [str(k) for k in pd.unique(iid)]
        conf = pd.to_numeric(tok["confidence"], errors="coerce").astype(np.float64)
        g = conf.groupby(iid.to_numpy(), sort=False)
        low = g.min().reindex(keys).to_numpy()
        worst = tok["token"].astype(str).to_numpy(dtype=object)[g.idxmin().reindex(keys)]
        seen = tok["n_votes"].groupby(iid.to_numpy(), sort=False).max().reindex(keys).to_numpy()
        priority = np.where(seen > 0, 1.0 - low, 1.0)
        reasons = [
            f"least certain token {w!r}: {c:.2f}" if n > 0 else "no source marked this item"
            for w, c, n in zip(worst.tolist(), low.tolist(), seen.tolist(), strict=True)
        ]
        why = "1 - the lowest token confidence of the item (1: no source saw it)"
    else:
        fix = "re-run `truelabel label --task token` with this --out."
        ans = _need(p / "answers.parquet", {"item_id", "label"}, fix)
        span_file = p / "spans.parquet"
        spans = _need(span_file, {"item_id", "start", "end", "label"}, fix)
        ans = ans.drop_duplicates("item_id")  # one answer per item for spans
        keys = ans["item_id"].map(_str_or_none).astype(str).tolist()

        def count(col: str) -> np.ndarray:
            c = ans[col] if col in ans.columns else pd.Series(0, index=ans.index)
            return pd.to_numeric(c, errors="coerce").fillna(0).to_numpy(np.int64)

        answered = ans["label"].notna().to_numpy()
        given, exact, rep = (
            count("n_spans_given"),
            count("n_spans_exact"),
            count("n_spans_repaired"),
        )
        rejected = given - exact - rep
        priority = np.where(answered, (given - exact) / np.maximum(given, 1), 1.0)
        none = pd.Series(None, index=ans.index, dtype=object)
        missed = [
            f"the call failed: {e}"
            if isinstance(e, str) and e
            else "not sent (budget)"
            if not isinstance(raw, str)
            else "the answer was cut off at --llm-max-tokens"
            if cut
            else "the answer held no list of spans"
            for e, raw, cut in zip(
                ans.get("error", none), ans.get("raw", none),
                ans.get("truncated", none).fillna(False).astype(bool), strict=True,
            )
        ]  # fmt: skip
        reasons = [
            f"no spans from the LLM: {m}"
            if not ok
            else (f"{r} repaired, {j} rejected of the {n} spans the LLM gave" if r or j else "")
            for ok, m, r, j, n in zip(
                answered.tolist(), missed, rep.tolist(), rejected.tolist(), given.tolist(),
                strict=True,
            )
        ]  # fmt: skip
        why = "share of the LLM's spans repaired or rejected (1: no usable answer)"
    text_of = _read_texts(texts)
    missing = [k for k in keys if k not in text_of]
    if missing:
        raise InputError(
            f"--texts {texts}: no text for {len(missing)} of the run's {len(keys)} items (first "
            f"{missing[0]!r}); pass the table the run was made from ({_SPAN_DATA[kind]})."
        )
    suggested: list[list[Span] | None] = list(
        _span_lists(spans, keys, span_file, text_of, texts, _SPAN_DATA[kind])
    )
    if kind == "label":  # an item without a usable answer has no suggestion
        suggested = [x if ok else None for x, ok in zip(suggested, answered, strict=True)]
    n = len(keys)
    items = _span_items_frame(
        keys,
        [text_of[k] for k in keys],
        [None] * n,
        suggested,
        prob=np.full(n, np.nan),  # no probability of a whole span list
        quality=np.full(n, np.nan),
        flag=np.zeros(n, dtype=bool),
        reasons=reasons,
    )
    return items, np.asarray(priority, dtype=np.float64), why


def load_run(
    path: str | Path, *, texts: str | Path | None = None, task: str | None = None
) -> LoadedRun:
    """Read a run directory written by ``truelabel audit``, ``aggregate`` or ``label``.

    Parameters
    ----------
    path : path
        The run folder (it has ``run.json``).
    texts : path, optional
        A table with ``item_id`` and ``text`` columns, for runs that do not carry texts.
    task : str, optional
        The run's task; by default what its ``run.json`` says (``classification`` when
        it says nothing). A token audit gives one item per sentence.

    Raises
    ------
    InputError
        Not a run folder, an unsupported kind, or a missing required file/column.
    """
    p = Path(path)
    marker = p / "run.json"
    if not marker.is_file():
        raise InputError(
            f"{p}: not a truelabel run folder (no run.json); pass the --out of an audit, aggregate or label run."
        )
    meta = json.loads(marker.read_text(encoding="utf-8"))
    kind = str(meta.get("kind", ""))
    if kind not in _KINDS:
        raise InputError(
            f"{p}/run.json: kind {kind!r} cannot be imported for review; import an audit, aggregate or label run."
        )
    summary: dict[str, Any] = {}
    if (p / "summary.json").is_file():
        summary = json.loads((p / "summary.json").read_text(encoding="utf-8"))
    task = _run_task(meta, summary, task)
    sep = str(
        summary.get("settings", {}).get("label_sep")
        or meta.get("settings", {}).get("label_sep")
        or ","
    )
    if task == "token":
        if kind != "audit":
            titems, tprio, why = _run_span_items(p, kind, texts)
        elif not (p / "issues.parquet").is_file():
            raise InputError(f"{p}: a token audit must have issues.parquet; re-run the audit.")
        else:
            titems, tprio = _token_items(p, summary)
            why = "1 - the lowest token label quality of the sentence"
        files = sorted(f.name for f in p.iterdir() if f.suffix in (".parquet", ".json"))
        return LoadedRun(
            kind=kind,
            classes=[str(t) for t in summary.get("entity_types", summary.get("classes", []))],
            items=titems,
            priority=np.clip(np.nan_to_num(tprio, nan=0.5), 0.0, 1.0),
            votes=None,
            sources=_read_sources(p),
            fingerprint=_fingerprint(p, files),
            path=p,
            summary=summary,
            task=task,
            label_sep=sep,
            priority_reason=why,
        )
    main = "issues.parquet" if kind == "audit" else "labels.parquet"
    if not (p / main).is_file():
        raise InputError(
            f"{p}: a {kind} run must have {main}; re-run `truelabel {kind}` with this --out."
        )
    df = read_table(p / main)
    if "item_id" not in df.columns:
        raise InputError(f"{p / main}: no item_id column (found {list(df.columns)[:10]}).")
    prob_cols = [c for c in df.columns if c.startswith("p_")]
    classes = [
        str(c) for c in summary.get("classes", summary.get("tags", summary.get("options", [])))
    ] or [c[2:] for c in prob_cols]
    if task == "regression":
        classes = []
    elif not classes:
        raise InputError(
            f"{p}: cannot tell the classes (no 'classes' in summary.json, no p_<class> columns)."
        )

    n = len(df)
    items = pd.DataFrame({"item_key": df["item_id"].map(_str_or_none)})
    if items["item_key"].duplicated().any():
        dup = items.loc[items["item_key"].duplicated(), "item_key"].iloc[0]
        raise InputError(
            f"{p / main}: item_id {dup!r} appears more than once; item ids must be unique."
        )
    items["text"] = df["text"].astype(str) if "text" in df.columns else ""
    if kind == "audit":
        items["given_label"] = df["given_label"].map(_str_or_none) if "given_label" in df else None
        items["suggested_label"] = (
            df["suggested_label"].map(_str_or_none) if "suggested_label" in df else None
        )
        items["suggested_prob"] = pd.to_numeric(
            df.get("suggested_prob", pd.Series([np.nan] * n)), errors="coerce"
        )
        lq = pd.to_numeric(df.get("label_quality", pd.Series([np.nan] * n)), errors="coerce")
        items["label_quality"] = lq
        priority = 1.0 - lq.to_numpy(dtype=np.float64)
    else:
        if "label" not in df.columns:
            raise InputError(f"{p / main}: no label column (found {list(df.columns)[:10]}).")
        items["given_label"] = None
        items["suggested_label"] = df["label"].map(_str_or_none)
        conf = pd.to_numeric(df.get("confidence", pd.Series([np.nan] * n)), errors="coerce")
        items["suggested_prob"] = conf
        items["label_quality"] = np.nan
        priority = 1.0 - conf.to_numpy(dtype=np.float64)
    if task != "classification":
        for col in ("given_label", "suggested_label"):
            if items[col].notna().any():
                items[col] = _canonical_column(items[col], task, classes, sep, f"{p / main} {col}")
    for col in ("is_label_issue", "is_outlier"):
        items[col] = df[col].fillna(False).astype(bool) if col in df.columns else False
    items["duplicate_group"] = (
        df["duplicate_group"].map(_group_or_none) if "duplicate_group" in df else None
    )
    # the audit's own words, shown on the item page
    meta_cols = [c for c in ("issue", "reason") if c in df.columns]
    rows = df[meta_cols].itertuples(index=False, name=None) if meta_cols else iter([()] * n)
    items["meta"] = pd.Series(
        [
            {c: str(v) for c, v in zip(meta_cols, vals, strict=True) if _str_or_none(v)}
            for vals in rows
        ],
        dtype=object,
    )
    items["neighbors"] = (
        df["neighbors"].map(_as_list) if "neighbors" in df.columns else [[] for _ in range(n)]
    )
    pm: np.ndarray | None = None
    if prob_cols:
        pm, names = df[prob_cols].to_numpy(dtype=np.float64), [c[2:] for c in prob_cols]
    elif kind == "audit" and (p / "pred_probs.npy").is_file():
        pm, names = _audit_probs(p, df, classes), classes
    items["probs"] = pd.Series(
        _top_probs(pm, names) if pm is not None else [{} for _ in range(n)], dtype=object
    )
    priority = np.nan_to_num(priority, nan=0.5)

    if texts is not None:
        m = _read_texts(texts)
        items["text"] = [
            m.get(k, old) for k, old in zip(items["item_key"], items["text"], strict=True)
        ]

    votes = None
    if (p / "votes.parquet").is_file():
        v = read_table(p / "votes.parquet")
        missing = {"item_id", "source", "label"} - set(v.columns)
        if missing:
            raise InputError(f"{p / 'votes.parquet'}: missing columns {sorted(missing)}.")
        v = v.dropna(subset=["label"])
        votes = pd.DataFrame(
            {
                "item_key": v["item_id"].map(_str_or_none),
                "source": v["source"].astype(str),
                "label": v["label"].map(_str_or_none),
            }
        )
    files = sorted(f.name for f in p.iterdir() if f.suffix in (".parquet", ".json"))
    return LoadedRun(
        kind=kind,
        classes=classes,
        items=items,
        priority=np.clip(priority, 0.0, 1.0),
        votes=votes,
        sources=_read_sources(p),
        fingerprint=_fingerprint(p, files),
        path=p,
        summary=summary,
        task=task,
        label_sep=sep,
        priority_reason="1 - label_quality" if kind == "audit" else "1 - confidence",
    )
