"""Aggregating a large votes table: coded once, EM streamed over vote chunks, Parquet out."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..io import RunDir, check_out_dir
from ..sources._votes import VoteArrays
from ._dawid_skene import ChunkedDawidSkene, load_vote_store, save_vote_store
from ._engine import Engine, make_engine
from ._memory import parse_memory
from ._stages import Progress, StageRunner, checkpoint_dir_for, fingerprint

__all__ = ["LargeAggregateResult", "aggregate_large"]

logger = logging.getLogger(__name__)

#: items per Parquet part of ``labels/``
PART_ROWS = 500_000


@dataclass
class LargeAggregateResult:
    """What :func:`aggregate_large` wrote.

    Attributes
    ----------
    out : Path
    summary : dict
        Content of ``summary.json``.
    sources : DataFrame
        Per-source estimated accuracy and vote count (``sources.parquet``).
    resumed_stages : list of str
    """

    out: Path
    summary: dict[str, Any]
    sources: pd.DataFrame
    resumed_stages: list[str] = field(default_factory=list)


def aggregate_large(
    votes: str | Path | VoteArrays,
    *,
    out: str | Path,
    item_column: str = "item_id",
    source_column: str = "source",
    label_column: str = "label",
    weight_column: str | None = None,
    classes: Sequence[Any] | None = None,
    model: str = "dawid_skene",
    max_iter: int | None = None,
    tol: float | None = None,
    engine: str | Engine = "local",
    scheduler: str | None = None,
    n_workers: int | None = None,
    max_memory: str | int | None = None,
    chunk_votes: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
    _fail_after: str | None = None,
) -> LargeAggregateResult:
    """Dawid–Skene on a large votes table with EM streamed over chunks (or Dask partitions).

    Parameters
    ----------
    votes : path or VoteArrays
        Long votes table (csv/tsv/jsonl/parquet) with item, source and label columns, a
        vote-store folder from :func:`save_vote_store`, or coded votes.
    out : path
        Run directory: ``labels/part-*.parquet`` (item_id, label, confidence, one
        ``p_<class>`` column per class), ``sources.parquet``, ``summary.json``.
    item_column, source_column, label_column, weight_column, classes
        As in :func:`truelabel.sources.votes_from_table`.
    model : str
        ``dawid_skene`` (``ds``), ``one_coin`` (``onecoin``) or ``ds_pooled``.
    max_iter, tol : optional
        EM limits (default: the model's).
    engine, scheduler, n_workers, max_memory, chunk_votes
        Where and in what pieces the EM steps run (see :class:`ChunkedDawidSkene`).
    resume : bool
        Reuse the coded votes of an interrupted run with the same input and options.
    overwrite, progress
        As in :func:`audit_large`.

    Returns
    -------
    LargeAggregateResult
    """
    t_start = time.perf_counter()
    out_p = check_out_dir(
        out,
        kind="aggregate",
        inputs=[votes],
        overwrite=overwrite,
    )
    budget = parse_memory(max_memory)
    src_desc: Any
    if isinstance(votes, VoteArrays):
        src_desc = {"n_votes": votes.n_votes, "n_items": votes.n_items}
    else:
        p = Path(votes)
        if not p.exists():
            raise InputError(f"{p}: no such file or folder.")
        src_desc = {"path": str(p.resolve()), "mtime": p.stat().st_mtime}
    settings = {
        "votes": src_desc,
        "item": item_column,
        "source": source_column,
        "label": label_column,
        "weight": weight_column,
        "classes": list(map(str, classes)) if classes else None,
        "model": model,
        "max_iter": max_iter,
        "tol": tol,
        "max_memory": budget,
        "chunk_votes": chunk_votes,
    }
    runner = StageRunner(
        checkpoint_dir_for(out_p),
        fingerprint=fingerprint(settings),
        resume=resume,
        progress=Progress(progress),
    )
    eng = make_engine(
        engine,
        scheduler=scheduler,
        **({"n_workers": n_workers} if n_workers and engine == "dask" else {}),
    )
    own = not isinstance(engine, Engine)
    try:
        store = runner.stage_dir("code") / "votes"
        if isinstance(votes, str | Path) and (Path(votes) / "meta.json").exists():
            store = Path(votes)
        else:

            def stage_code(advance: Any) -> dict[str, Any]:
                from ..sources import votes_from_table

                v = (
                    votes
                    if isinstance(votes, VoteArrays)
                    else votes_from_table(
                        votes,
                        item_column=item_column,
                        source_column=source_column,
                        label_column=label_column,
                        weight_column=weight_column,
                        classes=classes,
                    )
                )
                save_vote_store(v, store)
                ids = pd.DataFrame({"item_id": pd.Series(list(v.item_ids)).infer_objects()})
                try:
                    ids.to_parquet(store / "item_ids.parquet", index=False)
                except (TypeError, ValueError):  # mixed types: keep them as text
                    ids.astype(str).to_parquet(store / "item_ids.parquet", index=False)
                advance(v.n_votes)
                return {"n_votes": v.n_votes}

            runner.run("code", stage_code)
        if _fail_after == "code":
            raise RuntimeError("simulated interruption after stage 'code'")
        meta = load_vote_store(store)["meta"]

        def stage_em(advance: Any) -> dict[str, Any]:
            m = ChunkedDawidSkene(
                model=model,
                max_iter=max_iter,
                tol=tol,
                engine=eng,
                max_memory=budget,
                chunk_votes=chunk_votes,
            ).fit(store)
            advance(1)
            return {
                "posterior": m.posterior_,
                "confusion": m.confusion_,
                "prior": m.prior_,
                "n_iter": m.n_iter_,
                "converged": m.converged_,
                "log_likelihood": m.log_likelihood_,
                "n_chunks": m.n_chunks_,
            }

        em = runner.run("em", stage_em, total=1)
        post = np.asarray(em["posterior"])
        conf = np.asarray(em["confusion"], dtype=np.float64)
        prior = np.asarray(em["prior"], dtype=np.float64)
        classes_ = np.asarray(meta["classes"], dtype=object)
        ids_path = store / "item_ids.parquet"
        item_ids = (
            pd.read_parquet(ids_path)["item_id"].to_numpy()
            if ids_path.exists()
            else np.arange(post.shape[0])
        )
        n_votes_per_source = np.bincount(
            np.load(store / "source.npy", mmap_mode="r"), minlength=meta["n_sources"]
        )
        acc = np.einsum("skk,k->s", conf, prior)  # P(source right) under the fitted prior
        sources = pd.DataFrame(
            {
                "source": meta["source_names"],
                "n_votes": n_votes_per_source,
                "accuracy": acc.astype(np.float32),
                "is_gold": meta["is_gold_source"],
            }
        )
        sources = sources.sort_values("accuracy", ascending=False).reset_index(drop=True)
        timings = dict(runner.timings)
        with RunDir(
            out_p, kind="aggregate", overwrite=overwrite, meta={"engine": eng.name, "scale": True}
        ) as run:
            t0 = time.perf_counter()
            lab = post.argmax(axis=1)
            for part, lo in enumerate(range(0, post.shape[0], PART_ROWS)):
                hi = min(lo + PART_ROWS, post.shape[0])
                df = pd.DataFrame(
                    {
                        "item_id": item_ids[lo:hi],
                        "label": classes_[lab[lo:hi]],
                        "confidence": post[lo:hi].max(axis=1),
                    }
                )
                for j, c in enumerate(classes_):
                    df[f"p_{c}"] = post[lo:hi, j]
                run.write_parquet(f"labels/part-{part:05d}.parquet", df)
            run.write_parquet("sources.parquet", sources)
            timings["write"] = time.perf_counter() - t0
            summary: dict[str, Any] = {
                "n_items": int(post.shape[0]),
                "n_sources": int(meta["n_sources"]),
                "n_votes": int(n_votes_per_source.sum()),
                "classes": [str(c) for c in classes_],
                "model": model,
                "n_iter": int(em["n_iter"]),
                "converged": bool(em["converged"]),
                "log_likelihood": float(em["log_likelihood"]),
                "prior": dict(zip(map(str, classes_), prior.round(5).tolist(), strict=True)),
                "settings": {
                    "engine": eng.name,
                    "max_memory_bytes": budget,
                    "n_chunks": int(em["n_chunks"]),
                    "resumed_stages": list(runner.resumed),
                },
                "timings_s": {k: round(v, 3) for k, v in timings.items()},
            }
            summary["timings_s"]["total"] = round(time.perf_counter() - t_start, 3)
            run.write_json("summary.json", summary)
        runner.cleanup()
        return LargeAggregateResult(
            out=out_p, summary=summary, sources=sources, resumed_stages=list(runner.resumed)
        )
    except InputError:
        runner.cleanup()  # bad input: nothing worth resuming (a fixed input is a new run)
        raise
    finally:
        if own:
            eng.close()
