"""``train --task token``: the CRF tagger as a model directory; ``predict`` on CoNLL files.

A tagger directory holds::

    model.json            format, task "token", tag names, tagger parameters, the
                          featurizer's model id, held-out metrics, versions
    weights.safetensors   sparse feature weights, dense layers, transitions (no pickle)
    run.json              written by RunDir (atomic publication)

The tagger is the same :class:`CRFTagger` the token audit cross-fits.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._types import Float32Array, IntArray
from ..io._tokens import TokenDataset, tags_to_spans
from ._tagger import CRFTagger

__all__ = [
    "TAGGER_FORMAT",
    "TrainedTagger",
    "entity_f1",
    "load_tagger",
    "model_task",
    "predict_tokens",
    "train_tagger",
    "write_conll",
]

logger = logging.getLogger(__name__)

TAGGER_FORMAT = "truelabel-tagger/1"


def entity_f1(gold: IntArray, pred: IntArray, offsets: IntArray) -> dict[str, float]:
    """Exact-match entity precision, recall and F1 (conlleval's definition).

    Parameters
    ----------
    gold, pred : ndarray of shape (T,), int
        IOB2 tag codes in the fixed layout.
    offsets : ndarray of shape (S + 1,), int

    Returns
    -------
    dict with ``precision``, ``recall``, ``f1``, ``n_gold``, ``n_pred``.
    """
    n = len(gold)
    gs, ge, gt = tags_to_spans(gold, offsets)
    ps, pe, pt = tags_to_spans(pred, offsets)
    gk = (gs * (n + 1) + ge) * 1024 + gt
    pk = (ps * (n + 1) + pe) * 1024 + pt
    tp = float(np.isin(pk, gk).sum())
    p = tp / max(len(pk), 1)
    r = tp / max(len(gk), 1)
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / max(p + r, 1e-12), 4),
        "n_gold": len(gk),
        "n_pred": len(pk),
    }


@dataclass
class TrainedTagger:
    """A trained token tagger: what ``load_model`` returns for a ``--task token`` model.

    Attributes
    ----------
    tagger : CRFTagger
        Fitted.
    tag_names : list of str
    metadata : dict
        Everything else in ``model.json`` (parameters, metrics, versions).
    """

    tagger: CRFTagger
    tag_names: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def entity_types(self) -> list[str]:
        return [t[2:] for t in self.tag_names[1::2]]

    def predict_proba(self, ds: TokenDataset) -> Float32Array:
        """Tag marginals (T, K) of every token of ``ds``."""
        return self.tagger.predict_marginals(ds.tokens, ds.offsets)

    def predict(self, ds: TokenDataset) -> IntArray:
        """Viterbi tag codes (T,) of every token of ``ds``."""
        return self.tagger.predict(ds.tokens, ds.offsets)

    def to_json(self) -> dict[str, Any]:
        """The ``model.json`` content."""
        return {
            "format": TAGGER_FORMAT,
            "task": "token",
            "tag_names": list(self.tag_names),
            "params": {k: v for k, v in self.tagger.get_params().items() if k != "random_state"},
            **self.metadata,
        }

    def save(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write the model directory atomically."""
        from safetensors.numpy import save_file

        from ..io import RunDir

        t = self.tagger
        tensors = {
            "sparse": np.ascontiguousarray(t.sparse_weights_),
            "transitions": np.ascontiguousarray(t.transitions_),
            "start": np.ascontiguousarray(t.start_),
            "end": np.ascontiguousarray(t.end_),
            **{f"dense{i}": np.ascontiguousarray(w) for i, w in enumerate(t.dense_weights_)},
        }
        with RunDir(out, kind="model", overwrite=overwrite, meta={"task": "token"}) as run:
            save_file(
                tensors, str(run.file("weights.safetensors")), metadata={"format": TAGGER_FORMAT}
            )
            run.write_json("model.json", self.to_json())
        return Path(out)


def model_task(path: str | Path) -> str:
    """The task a model directory was trained for (``model.json``'s ``task``; default
    ``classification``); an :class:`InputError` when it is no model directory."""
    from ._artifact import read_model_json

    return str(read_model_json(Path(path)).get("task", "classification"))


def load_tagger(path: str | Path) -> TrainedTagger:
    """Load a model directory written by ``truelabel train --task token``."""
    from safetensors.numpy import load_file

    p = Path(path)
    if model_task(p) != "token":
        raise InputError(f"{p} holds a {model_task(p)} model, not a token tagger.")
    meta = json.loads((p / "model.json").read_text(encoding="utf-8"))
    if meta.get("format") != TAGGER_FORMAT:
        raise InputError(
            f"{p} holds a token model in format {meta.get('format')!r}; this truelabel reads "
            f"{TAGGER_FORMAT!r}. Retrain it with `truelabel train --task token`."
        )
    wpath = p / "weights.safetensors"
    if not wpath.is_file():
        raise InputError(f"{p} lacks weights.safetensors; the model directory is incomplete.")
    w = load_file(str(wpath))
    tagger = CRFTagger(**meta["params"])
    tagger.sparse_weights_ = w["sparse"]
    n_dense = len([k for k in w if k.startswith("dense")])
    tagger.dense_weights_ = [w[f"dense{i}"] for i in range(n_dense)]
    tagger.transitions_ = w["transitions"]
    tagger.start_ = w["start"]
    tagger.end_ = w["end"]
    tagger.tag_names_ = list(meta["tag_names"])
    tagger.n_tags_ = len(tagger.tag_names_)
    rest = {k: v for k, v in meta.items() if k not in ("format", "task", "tag_names", "params")}
    return TrainedTagger(tagger=tagger, tag_names=list(meta["tag_names"]), metadata=rest)


def train_tagger(
    data: str | Path | pd.DataFrame,
    *,
    spans: str | Path | pd.DataFrame | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    holdout: float = 0.1,
    epochs: int | None = None,
    random_state: int = 0,
) -> TrainedTagger:
    """Train the CRF tagger on a CoNLL/IOB file (or items plus a span table).

    Parameters
    ----------
    data, spans, text_column, id_column
        As in :func:`truelabel.audit.audit_tokens`.
    holdout : float in [0, 0.5)
        Share of sentences held out to report the tagger's token accuracy and entity F1
        against the given tags (0 = train on everything, no metrics).
    epochs : int, optional
        Training epochs (default: the tagger's default).
    random_state : int

    Returns
    -------
    TrainedTagger
    """
    from .._validation import check_random_state
    from ..audit._token_api import load_token_data
    from ..featurize import get_featurizer

    if not 0 <= holdout < 0.5:
        raise InputError(f"--holdout must be in [0, 0.5); got {holdout}.")
    ds = load_token_data(data, spans=spans, text_column=text_column, id_column=id_column)
    if ds.tags is None or len(ds.tag_names) < 3:
        raise InputError(f"{ds.name}: no entity tags to learn from.")
    rng = check_random_state(random_state)
    n = ds.n_sentences
    n_hold = int(round(holdout * n)) if n >= 10 else 0
    perm = rng.permutation(n)
    hold, train = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
    params: dict[str, Any] = {"random_state": int(rng.integers(0, 2**31 - 1))}
    if epochs is not None:
        params["epochs"] = epochs
    tagger = CRFTagger(**params)
    tr = ds.sentences(train)
    t0 = time.perf_counter()
    assert tr.tags is not None
    tagger.fit(tr.tokens, tr.offsets, tr.tags, ds.tag_names)
    fit_s = time.perf_counter() - t0
    metrics: dict[str, Any] = {"n_train_sentences": len(train), "n_holdout_sentences": n_hold}
    if n_hold:
        ho = ds.sentences(hold)
        assert ho.tags is not None
        pred = tagger.predict(ho.tokens, ho.offsets)
        metrics["holdout_token_accuracy_vs_given"] = round(float((pred == ho.tags).mean()), 4)
        metrics["holdout_entity_vs_given"] = entity_f1(ho.tags, pred, ho.offsets)
    from ..audit._api import _versions

    feat = get_featurizer("static") if tagger.embeddings else None
    return TrainedTagger(
        tagger=tagger,
        tag_names=list(ds.tag_names),
        metadata={
            "metrics": metrics,
            "featurizer": {
                "name": "static" if feat else "none",
                "model_id": getattr(feat, "model_id", None),
            },
            "scheme": ds.scheme,
            "fit_seconds": round(fit_s, 2),
            "loss_curve": [round(v, 5) for v in tagger.loss_curve_],
            "versions": _versions(),
            "trained": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )


def predict_tokens(
    model: TrainedTagger,
    data: str | Path | pd.DataFrame,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Tag a CoNLL/IOB file (the last column is read as the tag when there are two or more
    columns; a one-column file is unlabelled) or a table of texts.

    Returns
    -------
    table : DataFrame
        One row per token: ``sentence_id``, ``token_index``, ``token``, ``label`` (IOB2),
        ``confidence`` (marginal of that tag), plus ``given_label`` when the file has tags
        (and ``item_id``, ``char_start``, ``char_end`` for text input).
    info : dict
        ``n_sentences``, ``n_tokens``, and — when the file has tags — ``entity`` (P/R/F1
        against them) and ``token_accuracy``.
    """
    from ..io._tokens import load_conll, load_span_table

    if text_column is not None or isinstance(data, pd.DataFrame):
        ds = load_span_table(data, None, text_column=text_column or "text", id_column=id_column)
        labelled = False
    else:
        labelled = _has_tag_column(Path(data))
        ds = load_conll(data, labelled=labelled, tag_names=model.tag_names if labelled else None)
    probs = model.predict_proba(ds)
    pred = model.predict(ds)
    names = np.asarray(model.tag_names, dtype=object)
    cols: dict[str, Any] = {
        "sentence_id": ds.sentence_of_token(),
        "token_index": ds.token_index(),
        "token": ds.tokens.astype(str),
        "label": names[pred],
        "confidence": probs[np.arange(len(pred)), pred].astype(np.float32),
    }
    info: dict[str, Any] = {"n_sentences": ds.n_sentences, "n_tokens": ds.n_tokens}
    if labelled and ds.tags is not None:
        cols["given_label"] = names[ds.tags]
        info["entity"] = entity_f1(ds.tags, pred, ds.offsets)
        info["token_accuracy"] = round(float((pred == ds.tags).mean()), 4)
    if ds.item_ids is not None:
        cols["item_id"] = ds.item_ids[cols["sentence_id"]]
        cols["char_start"] = ds.char_start
        cols["char_end"] = ds.char_end
    return pd.DataFrame(cols), info


def _has_tag_column(path: Path) -> bool:
    """Whether the first token line of a CoNLL file has two or more columns."""
    from ..io._tokens import DOCSTART, _read_text

    for line in _read_text(path).splitlines():
        cols = line.split("\t") if "\t" in line else line.split()
        if cols and cols[0] != DOCSTART:
            return len(cols) >= 2
    return False


def write_conll(table: pd.DataFrame, path: str | Path) -> None:
    """Write predictions as CoNLL text: ``token [given] predicted`` per line."""
    from ..io import write_atomic

    df = table.sort_values(["sentence_id", "token_index"], kind="stable")
    cols = ["token"] + (["given_label"] if "given_label" in df.columns else []) + ["label"]
    lines = df[cols].astype(str).agg(" ".join, axis=1).to_numpy()
    new_sent = np.r_[False, df["sentence_id"].to_numpy()[1:] != df["sentence_id"].to_numpy()[:-1]]
    text = "\n".join(("\n" if b else "") + ln for b, ln in zip(new_sent, lines, strict=True))
    write_atomic(path, text + "\n")
