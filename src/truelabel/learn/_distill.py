"""Distillation from a strong, expensive teacher into a small student, on a budget.

The teacher is anything that gives class probabilities for an item: probability columns
in the data (a column per class), several such tables averaged (an ensemble), or an LLM
asked through :class:`truelabel.sources.LLMLabeler` (and its cache). The budget is the
number of items the teacher is asked about; :func:`select_queries` chooses them actively
— where the current student is unsure (uncertainty), where the data are not yet covered
(diversity), or both — in a few rounds (:meth:`DistilledClassifier.fit`). The student is
then trained like any other model (:func:`distill_model` goes through
:func:`train_model`), so it is saved, predicted and served the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._errors import InputError
from .._types import BoolArray, FloatArray, IntArray

__all__ = [
    "SELECT_STRATEGIES",
    "distill_model",
    "llm_teacher",
    "select_queries",
    "teacher_from_tables",
]

logger = logging.getLogger(__name__)

#: Ways to choose the items to ask the teacher about.
SELECT_STRATEGIES = ("hybrid", "uncertainty", "diversity", "random")


def _entropy(p: FloatArray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0)
    return -(q * np.log(q)).sum(axis=1)


def _unit(X: Any) -> np.ndarray:
    D = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float32)
    return D / np.maximum(np.linalg.norm(D, axis=1, keepdims=True), 1e-12)


def _farthest_first(
    Xu: np.ndarray, pool: np.ndarray, covered: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """k-center greedy: ``n`` rows of ``pool`` each farthest (cosine) from all chosen so far."""
    if covered.size:
        dist = 1.0 - (Xu[pool] @ Xu[covered].T).max(axis=1)
    else:
        dist = np.full(len(pool), np.inf)
        dist[rng.integers(len(pool))] = np.inf  # first pick: random among ties
    out: list[int] = []
    avail = np.ones(len(pool), dtype=bool)
    for _ in range(min(n, len(pool))):  # loop over picks (the budget), not over items
        cand = np.where(avail, dist, -np.inf)
        j = (
            int(rng.choice(np.flatnonzero(cand == cand.max())))
            if np.isinf(cand.max())
            else int(np.argmax(cand))
        )
        out.append(j)
        avail[j] = False
        dist = np.minimum(dist, 1.0 - Xu[pool] @ Xu[pool[j]])
    return pool[np.asarray(out, dtype=np.int64)]


def select_queries(
    X: Any,
    proba: FloatArray | None,
    asked: BoolArray,
    n: int,
    *,
    strategy: str = "hybrid",
    covered: BoolArray | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> IntArray:
    """Choose ``n`` items to ask the teacher about.

    Parameters
    ----------
    X : ndarray of shape (N, D) or CSR matrix
        Item features (cosine geometry for diversity).
    proba : ndarray of shape (N, K) or None
        The current student's probabilities (None before any student exists: then
        uncertainty and hybrid fall back to diversity).
    asked : ndarray of shape (N,), bool
        Items already asked (never chosen again).
    n : int
    strategy : {"hybrid", "uncertainty", "diversity", "random"}
        ``uncertainty``: highest entropy of the student. ``diversity``: k-center greedy
        (each pick farthest from every item already covered). ``hybrid``: the ``3 n``
        most uncertain, then k-center greedy among them (uncertain *and* spread out).
    covered : ndarray of shape (N,), bool, optional
        Items the student already has labels for (asked or gold): the diversity anchors.
    random_state : int, Generator or None

    Returns
    -------
    ndarray of int, at most ``n`` row indices
    """
    from .._validation import check_random_state

    if strategy not in SELECT_STRATEGIES:
        raise InputError(f"unknown selection {strategy!r}; choose one of {SELECT_STRATEGIES}.")
    rng = check_random_state(random_state)
    pool = np.flatnonzero(~np.asarray(asked, dtype=bool))
    if n <= 0 or pool.size == 0:
        return np.zeros(0, dtype=np.int64)
    anchors = np.flatnonzero(asked if covered is None else (covered | asked))
    if strategy == "random":
        return np.sort(rng.choice(pool, size=min(n, pool.size), replace=False))
    if proba is None or strategy == "diversity":
        return _farthest_first(_unit(X), pool, anchors, n, rng)
    ent = _entropy(np.asarray(proba)[pool])
    order = pool[np.argsort(-ent, kind="stable")]
    if strategy == "uncertainty":
        return order[:n]
    short = order[: 3 * n]
    return _farthest_first(_unit(X), short, anchors, n, rng)


def _rows_to_probs(labels: Sequence[Any], conf: Sequence[float], classes: list[str]) -> np.ndarray:
    """One answer (label, confidence) per row -> (N, K) probabilities; NaN row = no answer."""
    K = len(classes)
    pos = {c: j for j, c in enumerate(classes)}
    out = np.full((len(labels), K), np.nan, dtype=np.float64)
    for i, (lab, c) in enumerate(zip(labels, conf, strict=True)):  # answers only, not a hot path
        if lab is None or lab not in pos:
            continue
        c = float(c) if c is not None and np.isfinite(c) else 1.0
        out[i] = (1.0 - c) / max(K - 1, 1)
        out[i, pos[lab]] = c
    return out


def teacher_from_tables(
    tables: Sequence[pd.DataFrame], item_id: np.ndarray, classes: list[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Average several teachers' answers (an ensemble) aligned to ``item_id``.

    Parameters
    ----------
    tables : sequence of DataFrame
        Each with ``item_id`` and either ``p_<class>`` columns (probabilities) or a
        ``label`` column (a hard answer; an optional ``confidence`` column).
    item_id : ndarray of shape (N,)
    classes : list of str, optional
        Default: the union of the tables' classes, sorted.

    Returns
    -------
    probs : ndarray of shape (N, K), float64
        The mean over the teachers that answered each item; a NaN row where none did.
    classes : list of str
    """
    if not tables:
        raise InputError("pass at least one teacher table.")
    found: set[str] = set()
    for t in tables:
        p = [str(c)[2:] for c in t.columns if str(c).startswith("p_")]
        if p:
            found.update(p)
        elif "label" in t.columns:
            found.update(t["label"].dropna().astype(str).unique().tolist())
        else:
            raise InputError(
                "a teacher table needs p_<class> columns or a label column (columns: "
                f"{list(t.columns)[:10]})."
            )
        if "item_id" not in t.columns:
            raise InputError("a teacher table needs an item_id column.")
    names = sorted(found) if classes is None else list(classes)
    pos = pd.Index(np.asarray(item_id).astype(str))
    total = np.zeros((len(item_id), len(names)))
    count = np.zeros(len(item_id))
    for t in tables:
        rows = pos.get_indexer(t["item_id"].astype(str))
        ok = rows >= 0
        pcols = [f"p_{c}" for c in names]
        if all(c in t.columns for c in pcols):
            P = t.loc[ok, pcols].to_numpy(dtype=np.float64)
        else:
            conf = t["confidence"] if "confidence" in t.columns else pd.Series(1.0, index=t.index)
            lab = t["label"].where(t["label"].notna(), None)
            P = _rows_to_probs(
                [None if v is None else str(v) for v in lab[ok]], list(conf[ok]), names
            )
        good = np.isfinite(P).all(axis=1)
        r = rows[ok][good]
        np.add.at(total, r, P[good])
        np.add.at(count, r, 1.0)
    out = np.full_like(total, np.nan)
    has = count > 0
    out[has] = total[has] / count[has, None]
    return out, names


def llm_teacher(
    labeler: Any, texts: Sequence[str], classes: Any
) -> Callable[[np.ndarray], np.ndarray]:
    """A teacher that asks an LLM (through the labeler's cache) about chosen items.

    Parameters
    ----------
    labeler : truelabel.sources.LLMLabeler
    texts : sequence of str, length N
    classes : the class list given to the labeler

    Returns
    -------
    callable ``ask(idx) -> (len(idx), K)`` probabilities (the answer's confidence on its
    class, the rest spread evenly; NaN rows for abstains and failures)
    """
    from ..sources._zeroshot_classes import parse_classes

    names = [c.name for c in parse_classes(classes)]
    arr = np.asarray(texts, dtype=object)

    def ask(idx: np.ndarray) -> np.ndarray:
        res = labeler.label(list(arr[idx]), classes, item_ids=list(np.asarray(idx).tolist()))
        votes = res.votes
        lab: list[Any] = [None] * len(idx)
        conf = [1.0] * len(idx)
        where = {int(v): i for i, v in enumerate(np.asarray(idx).tolist())}
        for iid, label, c in zip(
            votes["item_id"], votes["label"], votes["confidence"], strict=True
        ):
            k = where[int(iid)]
            lab[k], conf[k] = str(label), float(c)
        return _rows_to_probs(lab, conf, names)

    ask.classes = names  # type: ignore[attr-defined]
    return ask


def distill_model(
    data: str | Path | pd.DataFrame,
    *,
    text_column: str | None = None,
    teacher_columns: Sequence[str] | None = None,
    teacher_tables: Sequence[str | Path | pd.DataFrame] = (),
    teacher: Callable[[np.ndarray], np.ndarray] | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
    vectors_column: str | None = None,
    feature_columns: str | Sequence[str] | None = None,
    featurizer: str = "minilm",
    model: str = "logreg",
    budget: int | None = None,
    select: str = "random",
    temperature: float = 2.0,
    alpha: float = 0.5,
    n_rounds: int = 4,
    epochs: int | None = None,
    random_state: int = 0,
) -> Any:
    """Distil a teacher into a student model artifact.

    Parameters
    ----------
    data : path or DataFrame
        The items (text, vectors or table columns); optionally a gold label column.
    teacher_columns : list of str, optional
        Columns of ``data`` with the teacher's probabilities, one per class (the class
        name is the column name without a ``p_`` prefix).
    teacher_tables : paths or DataFrames, optional
        Teachers' answers (``item_id`` + ``p_<class>`` or ``label``); several are
        averaged (an ensemble).
    teacher : callable, optional
        ``ask(idx) -> (len(idx), K)``, e.g. :func:`llm_teacher`; it must carry the class
        names as ``ask.classes``.
    label_column : str, optional
        Gold labels where known (empty elsewhere): always used, with weight ``alpha``
        against the teacher where both exist.
    budget : int, optional
        Items the teacher is asked about; default all (no selection).
    select : {"random", "uncertainty", "diversity", "hybrid"}
        Default ``random``: the active strategies did not beat it on the benchmark.
    temperature : float
        Softens the teacher's probabilities (> 1 softer).
    alpha : float in [0, 1]
        Weight of a gold label against the teacher on the same item.
    n_rounds : int
        Active-selection rounds (the budget is spread over them).

    Returns
    -------
    TrainedModel
        ``metadata["supervision"] == "distillation"`` with the teacher, budget and
        selection; held-out metrics are against the teacher's (or gold) labels.
    """
    from ..io import load_dataset, read_table
    from ._artifact import fit_features, train_model
    from ._calibrated import make_estimator
    from ._schemes import DistilledClassifier

    sources = sum(x is not None and len(x) > 0 for x in (teacher_columns, teacher_tables)) + (
        teacher is not None
    )
    if sources != 1:
        raise InputError(
            "pass exactly one teacher: --teacher-columns, --teacher FILE (repeatable for an "
            "ensemble), or an LLM (--llm-model with --llm-base-url)."
        )
    if feature_columns is not None:
        featurizer = "tabular"
    frame = read_table(data)
    ds = load_dataset(
        frame,
        text_column=text_column if featurizer not in ("vectors", "tabular") else None,
        id_column=id_column,
        vectors_column=vectors_column,
        require_labels=False,
    )
    exclude = (label_column, id_column, *(teacher_columns or ()))
    X, _, _ = fit_features(
        ds, np.arange(len(ds)), featurizer, feature_columns=feature_columns, exclude=exclude
    )
    if teacher_columns:
        miss = [c for c in teacher_columns if c not in frame.columns]
        if miss:
            raise InputError(f"teacher column(s) {miss} not in the data.")
        classes = [c[2:] if c.startswith("p_") else c for c in teacher_columns]
        probs = frame[list(teacher_columns)].apply(pd.to_numeric, errors="coerce").to_numpy()
        teacher_arg: Any = probs
        kind = f"columns {list(teacher_columns)}"
    elif teacher_tables:
        tabs = [t if isinstance(t, pd.DataFrame) else read_table(t) for t in teacher_tables]
        probs, classes = teacher_from_tables(tabs, ds.item_id)
        teacher_arg = probs
        kind = f"{len(tabs)} table(s)" + (" averaged" if len(tabs) > 1 else "")
    else:
        assert teacher is not None
        classes = list(teacher.classes)  # type: ignore[attr-defined]
        teacher_arg = teacher
        kind = "callable (LLM)"
    y = np.full(len(ds), -1, dtype=np.int64)
    if label_column is not None:
        if label_column not in frame.columns:
            raise InputError(f"label column {label_column!r} not in the data.")
        col = frame[label_column]
        has = col.notna().to_numpy() & col.astype(str).str.strip().ne("").to_numpy()
        lab = col[has].astype(str).str.strip()
        unknown = sorted(set(lab) - set(classes))
        if unknown:
            raise InputError(
                f"gold label {unknown[0]!r} in {label_column!r} is not one of the teacher's "
                f"classes {classes[:20]}."
            )
        y[has] = pd.Index(classes).get_indexer(pd.Index(lab))
    base = make_estimator(model, "ce", "plain", random_state, epochs, 0.2)
    dc = DistilledClassifier(
        base,
        alpha=alpha,
        temperature=temperature,
        budget=budget,
        select=select,
        n_rounds=n_rounds,
        random_state=random_state,
    ).fit(X, y, teacher_probs=teacher_arg, n_classes=len(classes))
    rows = np.flatnonzero(np.isfinite(dc.targets_).all(axis=1))
    labels = pd.DataFrame({"item_id": ds.item_id[rows]})
    for j, c in enumerate(classes):
        labels[f"p_{c}"] = dc.targets_[rows, j]
    tm = train_model(
        frame,
        text_column=text_column,
        labels=labels,
        id_column=id_column,
        vectors_column=vectors_column,
        feature_columns=feature_columns,
        featurizer=featurizer,
        model=model,
        epochs=epochs,
        random_state=random_state,
    )
    tm.metadata["supervision"] = "distillation"
    tm.metadata["distillation"] = {
        "teacher": kind,
        "budget": budget,
        "asked": int(dc.asked_.sum()),
        "teacher_answered": int(dc.answered_.sum()),
        "gold_rows": int((y >= 0).sum()),
        "select": select,
        "temperature": temperature,
        "alpha": alpha,
        "n_rounds": n_rounds,
    }
    return tm
