"""Predicting a large table with a trained model: chunk by chunk, or Dask partitions."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..io import RunDir, check_out_dir
from ._audit import _read_dask_frame
from ._chunks import count_rows, iter_table_chunks, table_columns
from ._engine import Engine, _worker_cache, make_engine
from ._memory import chunk_rows_for, parse_memory

__all__ = ["LargePredictResult", "predict_large"]

logger = logging.getLogger(__name__)

_ROW = "__truelabel_row"


@dataclass
class LargePredictResult:
    """What :func:`predict_large` wrote: ``out`` and the ``summary.json`` content."""

    out: Path
    summary: dict[str, Any]


def _model(path: str) -> Any:
    """The trained model at ``path``, loaded once per worker process."""
    from ..learn import load_model

    cache = _worker_cache()
    key = ("model", path)
    if key not in cache:
        cache[key] = load_model(path)
    return cache[key]


def _predict_frame(
    df: pd.DataFrame, model_path: str, text: str | None, id_col: str | None, alpha: float | None
) -> pd.DataFrame:
    """Predict one partition (``map_partitions`` target; the local engine uses it too)."""
    from ..learn import predict_table

    model = _model(model_path)
    if len(df) == 0:
        return _meta(model)
    out = predict_table(
        model, df.reset_index(drop=True), text_column=text, id_column=id_col or _ROW, alpha=alpha
    )
    out.index = df.index
    return out


def _meta(model: Any) -> pd.DataFrame:
    cols: dict[str, Any] = {
        "item_id": pd.Series(dtype=object),
        "label": pd.Series(dtype=object),
        "confidence": pd.Series(dtype=np.float32),
    }
    for c in model.classes:
        cols[f"p_{c}"] = pd.Series(dtype=np.float32)
    cols["prediction_set"] = pd.Series(dtype=object)
    return pd.DataFrame(cols)


def predict_large(
    model: str | Path,
    data: str | Path,
    *,
    out: str | Path,
    text: str | None = None,
    id: str | None = None,  # noqa: A002 - mirrors --id-column
    alpha: float | None = None,
    engine: str | Engine = "local",
    scheduler: str | None = None,
    n_workers: int | None = None,
    max_memory: str | int | None = None,
    chunk_rows: int | None = None,
    overwrite: bool = False,
) -> LargePredictResult:
    """Predict every row of a large table with a trained model (``truelabel train``'s output).

    Parameters
    ----------
    model : path
        Model folder written by :func:`truelabel.learn.train_model` / ``truelabel train``.
    data : path
        Parquet file or folder, CSV, TSV or JSONL.
    out : path
        Run directory: ``predictions/part-*.parquet`` (item_id, label, confidence,
        ``p_<class>``…, prediction_set) in input order, and ``summary.json``.
    text, id : str, optional
        Text column (default: the one used at training) and item-id column (default: the
        0-based row number).
    alpha : float, optional
        Conformal level for the prediction sets (one stored at training).
    engine, scheduler, n_workers, max_memory, chunk_rows, overwrite
        As in :func:`audit_large`; on Dask every worker loads the model once and predicts
        its partitions (``map_partitions``).

    Returns
    -------
    LargePredictResult
    """
    from ..learn import load_model

    t0 = time.perf_counter()
    out_p = check_out_dir(out, kind="predict", inputs=[model, data], overwrite=overwrite)
    model_path = str(Path(model).resolve())
    m = load_model(model_path)
    tcol = text or m.text_column
    if m.featurizer.get("name") == "vectors":
        raise InputError("predict_large handles text models; predict vector models in memory.")
    if tcol is None:
        raise InputError("pass --text-column; the model does not record one.")
    path = Path(data)
    have = table_columns(path)
    for c in (tcol, id):
        if c and c not in have:
            raise InputError(f"{path}: no column {c!r}; the columns are {have[:20]!r}.")
    n = count_rows(path)
    if n == 0:
        raise InputError(f"{path} has no rows; nothing to predict.")
    rows = chunk_rows or chunk_rows_for(parse_memory(max_memory), 4_000, max_rows=200_000)
    cols = [c for c in (tcol, id) if c]
    eng = make_engine(
        engine,
        scheduler=scheduler,
        **({"n_workers": n_workers} if n_workers and engine == "dask" else {}),
    )
    own = not isinstance(engine, Engine)
    n_parts = 0
    try:
        with RunDir(
            out_p, kind="predict", overwrite=overwrite, meta={"engine": eng.name, "scale": True}
        ) as run:
            client = getattr(eng, "client", None)
            if client is None:
                for df in iter_table_chunks(path, columns=cols, chunk_rows=rows):
                    df[_ROW] = df.index.to_numpy()
                    pred = _predict_frame(df, model_path, tcol, id, alpha)
                    run.write_parquet(f"predictions/part-{n_parts:05d}.parquet", pred)
                    n_parts += 1
            else:
                ddf = _read_dask_frame(path, cols, rows)
                lengths = ddf.map_partitions(len, meta=(None, "int64")).compute().to_numpy()
                offsets = np.concatenate([[0], np.cumsum(lengths)])
                parts = ddf.to_delayed()
                from dask import delayed

                def with_rows(df: pd.DataFrame, lo: int) -> pd.DataFrame:
                    df = df.copy()
                    df[_ROW] = np.arange(lo, lo + len(df))
                    return df

                import dask.dataframe as dd

                ddf2 = dd.from_delayed(
                    [delayed(with_rows)(p, int(offsets[i])) for i, p in enumerate(parts)],
                    meta={**{c: ddf.dtypes[c] for c in cols}, _ROW: np.int64},
                )
                preds = ddf2.map_partitions(
                    _predict_frame, model_path, tcol, id, alpha, meta=_meta(m)
                )
                for i, part in enumerate(preds.to_delayed()):
                    run.write_parquet(f"predictions/part-{i:05d}.parquet", part.compute())
                    n_parts += 1
            summary = {
                "n": int(n),
                "classes": list(m.classes),
                "model": model_path,
                "n_partitions": n_parts,
                "engine": eng.name,
                "seconds": round(time.perf_counter() - t0, 3),
            }
            run.write_json("summary.json", summary)
    finally:
        if own:
            eng.close()
    return LargePredictResult(out=out_p, summary=summary)
