"""The audit of a large table: chunked stages with checkpoints, on one machine or Dask.

Stages (each checkpointed, skipped on ``resume=True`` once finished):

``labels``     read the label column in chunks, code it (``labels.npy``)
``featurize``  texts -> a memory-mapped feature store, chunk by chunk (Dask: one
               ``map_partitions`` with the featurizer loaded once per worker)
``crossfit``   out-of-sample probabilities (``pred_probs.npy``): the K fold models of
               :func:`truelabel.crossfit.cross_val_predict_proba` when the features fit
               the memory budget, else an incremental learner over feature chunks; folds
               run in parallel on Dask
``thresholds`` / ``confident_joint`` / ``flags``
               confident learning in passes over chunks (:func:`audit_probabilities`)
``write``      partitioned Parquet ``issues/part-*.parquet`` (row order), the worst
               items sorted in ``top_issues.parquet``, ``summary.json``, ``pred_probs.npy``
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..crossfit import plan_model, resolve_learner
from ..io import RunDir, check_out_dir
from ._chunks import count_rows, iter_table_chunks, table_columns
from ._confident import audit_probabilities
from ._crossfit import crossfit_folds, incremental_cross_val_predict_proba
from ._engine import Engine, _worker_cache, make_engine
from ._memory import chunk_rows_for, parse_memory
from ._stages import Progress, StageRunner, checkpoint_dir_for, fingerprint
from ._store import FeatureStore

__all__ = ["LargeAuditResult", "audit_large"]

logger = logging.getLogger(__name__)

#: rows of the most suspicious items kept, sorted, in ``top_issues.parquet``
TOP_ISSUES = 10_000
#: default vocabulary of ``featurizer="tfidf"`` here: features are stored dense (N, D)
SCALE_TFIDF_FEATURES = 4096


@dataclass
class LargeAuditResult:
    """What :func:`audit_large` wrote and found.

    Attributes
    ----------
    out : Path
        The published run directory.
    summary : dict
        The content of ``summary.json``.
    top_issues : DataFrame
        Up to 10,000 items with the lowest label quality (flagged first), sorted.
    resumed_stages : list of str
        Stages loaded from checkpoints instead of run.
    """

    out: Path
    summary: dict[str, Any]
    top_issues: pd.DataFrame
    resumed_stages: list[str] = field(default_factory=list)


def _featurizer(name: str, kwargs: tuple[tuple[str, Any], ...]) -> Any:
    """The featurizer ``name``, built once per worker process and reused for every partition."""
    from ..featurize import get_featurizer

    cache = _worker_cache()
    key = ("featurizer", name, kwargs)
    if key not in cache:
        cache[key] = get_featurizer(name, **dict(kwargs))
    return cache[key]


def check_unique_ids(path: Path, column: str, n: int, chunk_rows: int) -> None:
    """Refuse empty or duplicate ids in ``column``, as :func:`truelabel.io.load_dataset` does.

    One pass keeps a 64-bit hash per row (8 bytes x N); only when hashes collide is the
    column read again to name the duplicate values and their rows.
    """
    hashes = np.empty(n, dtype=np.uint64)
    for df in iter_table_chunks(path, columns=[column], chunk_rows=chunk_rows):
        col = df[column]
        if col.isna().any():
            rows = df.index[col.isna().to_numpy()][:5].tolist()
            raise InputError(
                f"{path}: id column {column!r} is empty on rows {rows}; every item needs an id."
            )
        hashes[df.index[0] : df.index[-1] + 1] = pd.util.hash_array(
            col.astype(str).to_numpy(dtype=object)
        )
    order = np.argsort(hashes, kind="stable")
    same = hashes[order][1:] == hashes[order][:-1]
    if not same.any():
        return
    suspect = np.unique(np.concatenate([order[1:][same], order[:-1][same]]))
    values: dict[int, Any] = {}
    for df in iter_table_chunks(path, columns=[column], chunk_rows=chunk_rows):
        lo, hi = int(df.index[0]), int(df.index[-1]) + 1
        for r in suspect[(suspect >= lo) & (suspect < hi)]:
            values[int(r)] = df[column].iloc[int(r) - lo]
    by_value = pd.Series(values).astype(str)
    dup = by_value[by_value.duplicated(keep=False)]
    if dup.empty:  # a hash collision between different ids
        return
    first = dup.iloc[0]
    rows = dup.index[dup == first].tolist()[:5]
    raise InputError(
        f"{path}: id column {column!r} has {int(by_value.duplicated().sum())} duplicate values "
        f"(e.g. {first!r} on rows {', '.join(map(str, rows))}); ids must be unique — fix them "
        "or drop --id-column to use row numbers."
    )


def _dense(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.asarray(X, dtype=np.float32)


def _featurize_frame(
    df: pd.DataFrame,
    text: str,
    name: str,
    kwargs: tuple[tuple[str, Any], ...],
    dim: int,
    fitted: Any = None,
) -> pd.DataFrame:
    """Featurize one partition; ``map_partitions`` target (also used by the local engine).

    ``fitted`` is a featurizer whose state (the TF-IDF vocabulary) was fitted on every
    chunk in a first pass; otherwise the worker's own instance of ``name`` is used.
    """
    feat = fitted if fitted is not None else _featurizer(name, kwargs)
    texts = df[text].fillna("").astype(str).tolist()
    X = _dense(feat.transform(texts)) if texts else np.zeros((0, dim), np.float32)
    return pd.DataFrame(X, index=df.index, columns=[f"f{i}" for i in range(dim)])


def _read_dask_frame(path: Path, columns: list[str], chunk_rows: int) -> Any:
    import dask.dataframe as dd

    from ..io._readers import _format_of

    fmt = "parquet" if path.is_dir() else _format_of(path)
    if fmt == "parquet":
        return dd.read_parquet(str(path), columns=columns)
    if fmt in ("csv", "tsv"):
        return dd.read_csv(
            str(path), sep="," if fmt == "csv" else "\t", usecols=columns, blocksize="64MB"
        )
    if fmt == "jsonl":
        return dd.read_json(str(path), lines=True, blocksize=2**26)[columns]
    raise InputError(f"{path}: {fmt} cannot be read by Dask; convert it to Parquet.")


def audit_large(
    data: str | Path,
    *,
    out: str | Path,
    label: str,
    text: str | None = None,
    id: str | None = None,  # noqa: A002 - mirrors --id-column
    featurizer: str = "auto",
    featurizer_kwargs: dict[str, Any] | None = None,
    pred_probs: str | Path | None = None,
    vectors_file: str | Path | None = None,
    classes: Sequence[Any] | None = None,
    folds: int = 5,
    seed: int = 0,
    learner: str = "auto",
    n_epochs: int = 3,
    engine: str | Engine = "local",
    scheduler: str | None = None,
    n_workers: int | None = None,
    max_memory: str | int | None = None,
    chunk_rows: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    keep_text: bool = True,
    _fail_after: str | None = None,
) -> LargeAuditResult:
    """Audit a label column of a large table in bounded memory, or on a Dask cluster.

    Parameters
    ----------
    data : path
        Parquet file or folder of Parquet parts (read by row groups), CSV, TSV or JSONL.
    out : path
        Run directory to publish (atomically; see :class:`truelabel.io.RunDir`).
    label, text, id : str
        Column names; ``text`` is needed unless ``pred_probs`` or ``vectors_file`` is
        given; without ``id`` the item id is the 0-based row number.
    featurizer : {"auto", "static", "minilm", "tfidf"}
        How texts become vectors; ``auto`` is resolved by
        :func:`truelabel.crossfit.plan_model` (``static`` on these engines). ``tfidf``
        fits one vocabulary (``SCALE_TFIDF_FEATURES`` = 4096 n-grams unless
        ``featurizer_kwargs`` sets ``max_features``) in a first pass over all chunks.
    featurizer_kwargs : dict, optional
        Passed to the featurizer's constructor.
    pred_probs : path to ``.npy`` (N, K), optional
        Your out-of-sample probabilities (columns = sorted classes); memory-mapped.
    vectors_file : path to ``.npy`` (N, D), optional
        Precomputed features, memory-mapped.
    classes : sequence, optional
        The class list (default: sorted labels seen).
    folds, seed : int
        Cross-fitting folds and the seed of every random step.
    learner : {"auto", "logistic", "incremental"}
        ``logistic``: the standard end model on in-memory fold copies; ``incremental``:
        :class:`MinibatchLogisticRegression` streamed over feature chunks; ``auto``:
        logistic when the features take under a quarter of ``max_memory`` and N is at most
        200,000, else incremental (:func:`truelabel.crossfit.resolve_learner`).
    n_epochs : int
        Passes of the incremental learner.
    engine : {"local", "dask"} or Engine
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a Dask scheduler; a local cluster when omitted.
    n_workers : int, optional
        Workers of the local Dask cluster.
    max_memory : str or int, optional
        Memory budget such as ``"4GB"`` (default 2 GiB); sets the chunk sizes and the
        learner choice.
    chunk_rows : int, optional
        Rows per chunk (overrides what ``max_memory`` implies).
    resume : bool
        Continue an interrupted run with the same input and options: finished stages are
        loaded from ``<out parent>/.<out name>.checkpoints``.
    overwrite : bool
        Replace a non-run folder at ``out``.
    progress : bool, optional
        Show progress bars (default: when stderr is a terminal).
    keep_text : bool
        Copy the text column into the issues tables.

    Returns
    -------
    LargeAuditResult
    """
    t_start = time.perf_counter()
    path = Path(data)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder.")
    out_p = check_out_dir(
        out, kind="audit", inputs=[data, pred_probs, vectors_file], overwrite=overwrite
    )
    if folds < 2:
        raise InputError(f"--folds must be at least 2; got {folds}.")
    have = table_columns(path)
    needed = [c for c in (label, text, id) if c]
    missing = [c for c in needed if c not in have]
    if missing:
        raise InputError(
            f"{path}: no column {missing[0]!r}; the columns are {have[:20]!r}. "
            "Pass --label-column/--text-column/--id-column naming them."
        )
    if text is None and pred_probs is None and vectors_file is None:
        raise InputError(
            "a text column is required to featurize the items; pass --text-column NAME, "
            "or give --pred-probs/--vectors-file."
        )
    budget = parse_memory(max_memory)
    n = count_rows(path)
    if n == 0:
        raise InputError(f"{path} has no rows.")
    # the one planner decides the featurizer (and validates the learner) from the real size
    plan = plan_model(
        featurizer,
        learner,
        n_rows=n,
        engine="dask"
        if (engine if isinstance(engine, str) else engine.name) == "dask"
        else "local",
        has_text=text is not None,
        has_vectors=vectors_file is not None,
        pred_probs_given=pred_probs is not None,
    )
    featurizer = plan.featurizer or featurizer
    read_rows = chunk_rows or chunk_rows_for(budget, 2_000, max_rows=500_000)
    if id is not None:
        check_unique_ids(path, id, n, read_rows)
    settings = {
        "data": str(path.resolve()),
        "size": path.stat().st_size if path.is_file() else None,
        "mtime": path.stat().st_mtime,
        "label": label,
        "text": text,
        "id": id,
        "featurizer": featurizer,
        "featurizer_kwargs": featurizer_kwargs or {},
        "pred_probs": str(pred_probs) if pred_probs else None,
        "vectors_file": str(vectors_file) if vectors_file else None,
        "classes": list(map(str, classes)) if classes is not None else None,
        "folds": folds,
        "seed": seed,
        "learner": learner,
        "n_epochs": n_epochs,
        "chunk_rows": chunk_rows,
        "max_memory": budget,
    }
    ck = checkpoint_dir_for(out_p)
    runner = StageRunner(
        ck, fingerprint=fingerprint(settings), resume=resume, progress=Progress(progress)
    )
    eng = make_engine(
        engine,
        scheduler=scheduler,
        **({"n_workers": n_workers} if n_workers and engine == "dask" else {}),
    )
    own_engine = not isinstance(engine, Engine)

    def checkpoint_fail(stage: str) -> None:
        if _fail_after == stage:  # test hook: simulate a crash after a stage
            raise RuntimeError(f"simulated interruption after stage {stage!r}")

    try:
        # ---------------------------------------------------------------- labels
        def stage_labels(advance: Any) -> dict[str, Any]:
            from ..io import check_label_types, encode_labels

            if classes is None:
                seen: set[Any] = set()
                for df in iter_table_chunks(path, columns=[label], chunk_rows=read_rows):
                    col = df[label]
                    if col.isna().any():
                        row = int(df.index[col.isna().to_numpy()][0])
                        raise InputError(
                            f"{path} row {row}: empty {label!r}; "
                            f"{int(col.isna().sum())} rows in this chunk have no label. "
                            "Fill or drop them first."
                        )
                    check_label_types(col, where=f"{path}: label column {label!r}", rows=df.index)
                    seen.update(pd.unique(col).tolist())
                _, cls = encode_labels(
                    np.asarray(sorted(seen, key=str), dtype=object),
                    where=f"{path}: label column {label!r}",
                )
            else:
                cls = list(classes)
            labs = np.empty(n, dtype=np.int64)
            for df in iter_table_chunks(path, columns=[label], chunk_rows=read_rows):
                codes, _ = encode_labels(df[label].to_numpy(), classes=cls)
                labs[df.index[0] : df.index[-1] + 1] = codes
                advance(len(df))
            return {"labels": labs, "classes": [c if isinstance(c, int) else str(c) for c in cls]}

        lab = runner.run("labels", stage_labels, total=n)
        labels = np.asarray(lab["labels"], dtype=np.int64)
        cls = list(lab["classes"])
        k = len(cls)
        checkpoint_fail("labels")

        # ---------------------------------------------------------------- probabilities
        probs_path: Path
        featurizer_used: str | None = None
        learner_used: str | None = None
        if pred_probs is not None:
            probs_path = Path(pred_probs)
            arr = np.load(probs_path, mmap_mode="r")
            if arr.shape != (n, k):
                raise InputError(
                    f"{probs_path} has shape {arr.shape} but the data has {n} rows and {k} "
                    "classes; pass one row per data row, columns in sorted class order."
                )
        else:
            if vectors_file is not None:
                x_path = Path(vectors_file)
                xa = np.load(x_path, mmap_mode="r")
                if xa.ndim != 2 or xa.shape[0] != n:
                    raise InputError(
                        f"{x_path} has shape {xa.shape}; expected ({n}, D), one row per data row."
                    )
                featurizer_used = "vectors"
            else:
                assert text is not None
                x_path = runner.stage_dir("featurize") / "X.npy"
                featurizer_used = featurizer
                runner.run(
                    "featurize",
                    lambda advance: _featurize_stage(
                        path,
                        text,
                        featurizer,
                        featurizer_kwargs or {},
                        n,
                        read_rows,
                        x_path,
                        eng,
                        advance,
                    ),
                    total=n,
                )
            checkpoint_fail("featurize")
            d = int(np.load(x_path, mmap_mode="r").shape[1])
            feat_bytes = n * d * 4
            use = resolve_learner(learner, n_rows=n, feature_bytes=feat_bytes, memory_budget=budget)
            learner_used = use
            probs_path = runner.stage_dir("crossfit") / "pred_probs.npy"

            def stage_crossfit(advance: Any) -> dict[str, Any]:
                if use == "logistic":
                    pp = crossfit_folds(
                        str(x_path),
                        labels,
                        n_classes=k,
                        n_folds=folds,
                        random_state=seed,
                        engine=eng,
                        class_names=cls,
                        advance=advance,
                    )
                    np.save(probs_path, pp)
                else:
                    mm = np.lib.format.open_memmap(
                        probs_path, mode="w+", dtype=np.float32, shape=(n, k)
                    )
                    rows = chunk_rows or chunk_rows_for(
                        budget, 4 * d * 3 + 8 * k * 4, max_rows=200_000
                    )
                    incremental_cross_val_predict_proba(
                        str(x_path),
                        labels,
                        n_classes=k,
                        n_folds=folds,
                        chunk_rows=rows,
                        n_epochs=n_epochs,
                        random_state=seed,
                        engine=eng,
                        class_names=cls,
                        out=mm,
                        advance=advance,
                    )
                    mm.flush()
                    del mm
                return {"learner": use}

            runner.run("crossfit", stage_crossfit, total=folds)
            checkpoint_fail("crossfit")

        # ---------------------------------------------------------------- confident learning
        labels_path = runner.stage_dir("labels") / "labels.npy"
        res = audit_probabilities(
            str(labels_path),
            str(probs_path),
            engine=eng,
            max_memory=budget,
            chunk_rows=chunk_rows,
            stages=runner,
        )
        checkpoint_fail("flags")
        agreement, warnings = _model_agreement(labels, probs_path, k, res, read_rows)

        # ---------------------------------------------------------------- write
        timings = dict(runner.timings)
        with RunDir(
            out_p, kind="audit", overwrite=overwrite, meta={"engine": eng.name, "scale": True}
        ) as run:
            t0 = time.perf_counter()
            top = _write_outputs(
                run, path, res, labels, probs_path, cls, text if keep_text else None, id, read_rows
            )
            timings["write"] = time.perf_counter() - t0
            summary = _summary(
                res,
                cls,
                n,
                timings,
                eng,
                top,
                {
                    "featurizer": featurizer_used,
                    "learner": learner_used,
                    "folds": folds,
                    "seed": seed,
                    "engine": eng.name,
                    "max_memory_bytes": budget,
                    "chunk_rows": res.chunk_rows,
                    "n_chunks": res.n_chunks,
                    "pred_probs_given": pred_probs is not None,
                    "resumed_stages": list(runner.resumed),
                },
            )
            summary["timings_s"]["total"] = round(time.perf_counter() - t_start, 3)
            summary["model_agreement"], summary["warnings"] = agreement, warnings
            run.write_json("summary.json", summary)
        runner.cleanup()
        return LargeAuditResult(
            out=out_p, summary=summary, top_issues=top, resumed_stages=list(runner.resumed)
        )
    except InputError:
        runner.cleanup()  # bad input: nothing worth resuming (a fixed input is a new run)
        raise
    finally:
        if own_engine:
            eng.close()


def _model_agreement(
    labels: np.ndarray, probs_path: Path, k: int, res: Any, chunk_rows: int
) -> tuple[dict[str, float], list[str]]:
    """The model's agreement with the labels (argmax chunk by chunk) and the near-chance
    warning of :func:`truelabel.audit.audit`."""
    from ..audit._health import agreement_from_predictions, near_chance_warning
    from ._chunks import iter_array_chunks

    probs = np.load(probs_path, mmap_mode="r")
    pred = np.empty(labels.shape[0], dtype=np.int64)
    for lo, block in iter_array_chunks(probs, chunk_rows):
        pred[lo : lo + block.shape[0]] = np.asarray(block).argmax(axis=1)
    agreement = agreement_from_predictions(labels, pred, k)
    warning = near_chance_warning(agreement, float(res.noise.noise_rate))
    return agreement, [warning] if warning else []


def _featurize_stage(
    path: Path,
    text: str,
    name: str,
    kwargs: dict[str, Any],
    n: int,
    read_rows: int,
    x_path: Path,
    eng: Engine,
    advance: Any,
) -> dict[str, Any]:
    kw = tuple(sorted(kwargs.items()))
    fitted = None
    if name == "tfidf":  # corpus-dependent: fit one vocabulary on all chunks first
        from ..featurize import TfidfFeaturizer

        fitted = TfidfFeaturizer(**{"max_features": SCALE_TFIDF_FEATURES, **kwargs})
        fitted.fit_chunks(
            df[text].fillna("").astype(str).tolist()
            for df in iter_table_chunks(path, columns=[text], chunk_rows=read_rows)
        )
        assert fitted.vectorizer_ is not None  # set by fit_chunks
        dim = len(fitted.vectorizer_.vocabulary_)
    else:
        sample = next(iter_table_chunks(path, columns=[text], chunk_rows=8))
        probe = _featurizer(name, kw).transform(sample[text].fillna("").astype(str).tolist())
        dim = int(_dense(probe).shape[1])
    store = FeatureStore.create(x_path, n, dim)
    client = getattr(eng, "client", None)
    if client is None:
        for df in iter_table_chunks(path, columns=[text], chunk_rows=read_rows):
            lo, hi = int(df.index[0]), int(df.index[-1]) + 1
            if not store.is_done(lo, hi):
                store.write(lo, _featurize_frame(df, text, name, kw, dim, fitted).to_numpy())
            advance(hi - lo)
        return {"dim": dim}
    ddf = _read_dask_frame(path, [text], read_rows)
    meta = pd.DataFrame({f"f{i}": pd.Series(dtype=np.float32) for i in range(dim)})
    feats = ddf.map_partitions(_featurize_frame, text, name, kw, dim, fitted, meta=meta)
    lengths = ddf.map_partitions(len, meta=(None, "int64")).compute().to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    if int(offsets[-1]) != n:
        raise InputError(f"{path}: Dask read {int(offsets[-1])} rows but the file has {n}.")
    from distributed import as_completed

    parts = feats.to_delayed()
    todo = [i for i in range(len(parts)) if not store.is_done(int(offsets[i]), int(offsets[i + 1]))]
    futures = client.compute([parts[i] for i in todo])
    index = {f.key: i for f, i in zip(futures, todo, strict=True)}
    for fut in as_completed(futures):
        i = index[fut.key]
        store.write(int(offsets[i]), fut.result().to_numpy())
        advance(int(lengths[i]))
        fut.release()
    return {"dim": dim, "n_partitions": len(parts)}


def _write_outputs(
    run: RunDir,
    path: Path,
    res: Any,
    labels: np.ndarray,
    probs_path: Path,
    cls: list[Any],
    text: str | None,
    id_col: str | None,
    read_rows: int,
) -> pd.DataFrame:
    """Partitioned issues Parquet (row order), the sorted top issues, pred_probs.npy."""
    probs = np.load(probs_path, mmap_mode="r")
    names = np.asarray(cls, dtype=object)
    cols = [c for c in (id_col, text) if c]
    q = np.asarray(res.label_quality)
    flag = np.asarray(res.is_label_issue)
    sugg = np.asarray(res.suggested_label)
    # the TOP_ISSUES most suspicious rows: flagged first, then by quality ascending
    key = q.astype(np.float64) - flag * 2.0
    m = min(TOP_ISSUES, key.shape[0])
    top_idx = np.argpartition(key, m - 1)[:m] if m < key.shape[0] else np.arange(m)
    top_idx = top_idx[np.lexsort((top_idx, key[top_idx]))]
    top_rows: list[pd.DataFrame] = []
    chunks = iter_table_chunks(path, columns=cols, chunk_rows=read_rows) if cols else None
    part = 0
    for lo in range(0, labels.shape[0], read_rows):
        hi = min(lo + read_rows, labels.shape[0])
        src = next(chunks) if chunks is not None else None
        rows = np.arange(lo, hi)
        lab = labels[lo:hi]
        pb = np.asarray(probs[lo:hi])
        df = pd.DataFrame(
            {
                "item_id": src[id_col].to_numpy() if (src is not None and id_col) else rows,
                "row": rows,
            }
        )
        if src is not None and text:
            df["text"] = src[text].to_numpy()
        df["given_label"] = names[lab]
        df["suggested_label"] = names[sugg[lo:hi]]
        df["given_prob"] = pb[np.arange(hi - lo), lab].astype(np.float32)
        df["suggested_prob"] = pb[np.arange(hi - lo), sugg[lo:hi]].astype(np.float32)
        df["label_quality"] = q[lo:hi]
        df["is_label_issue"] = flag[lo:hi]
        run.write_parquet(f"issues/part-{part:05d}.parquet", df)
        part += 1
        sel = top_idx[(top_idx >= lo) & (top_idx < hi)]
        if sel.size:
            top_rows.append(df.iloc[sel - lo])
    top = pd.concat(top_rows) if top_rows else pd.DataFrame()
    if len(top):
        order = np.lexsort(
            (
                top["row"].to_numpy(),
                top["label_quality"].to_numpy() - top["is_label_issue"].to_numpy() * 2.0,
            )
        )
        top = top.iloc[order].reset_index(drop=True)
    run.write_parquet("top_issues.parquet", top)
    dst = run.file("pred_probs.npy")
    shutil.copyfile(probs_path, dst)
    return top


def _summary(
    res: Any,
    cls: list[Any],
    n: int,
    timings: dict[str, float],
    eng: Engine,
    top: pd.DataFrame,
    settings: dict[str, Any],
) -> dict[str, Any]:
    import sklearn

    from .. import __version__

    names = [str(c) for c in cls]
    noise = res.noise
    try:
        import psutil

        peak = psutil.Process(os.getpid()).memory_info().rss
    except ImportError:  # pragma: no cover
        peak = None
    return {
        "n": int(n),
        "n_classes": len(names),
        "classes": names,
        "noise_rate": float(noise.noise_rate),
        "noise_rate_per_class": dict(
            zip(names, np.asarray(noise.noise_rate_per_class).tolist(), strict=True)
        ),
        "noise_matrix": {
            "meaning": "noise_matrix[i][j] = P(given label = classes[i] | true label = classes[j])",
            "values": np.asarray(noise.noise_matrix, dtype=float).round(5).tolist(),
        },
        "prior": dict(
            zip(names, np.asarray(noise.prior, dtype=float).round(5).tolist(), strict=True)
        ),
        "counts": {"label_error": int(np.asarray(res.is_label_issue).sum())},
        "settings": settings,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "rss_bytes_at_end": peak,
        "outputs": {
            "issues": "issues/part-*.parquet (one row per item, in input order)",
            "top_issues": f"top_issues.parquet ({len(top)} rows, most suspicious first)",
            "pred_probs": "pred_probs.npy",
        },
        "versions": {
            "truelabel": __version__,
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "python": platform.python_version(),
        },
    }
