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
from ..report import write_report
from ._audit import _read_dask_frame
from ._chunks import count_rows, iter_table_chunks, table_columns
from ._engine import Engine, _worker_cache, make_engine
from ._memory import chunk_rows_for, parse_memory

__all__ = ["LargePredictResult", "predict_large"]

logger = logging.getLogger(__name__)

_ROW = "__truelabel_row"


class _Tally:
    """What the report shows, summed partition by partition (bounded memory)."""

    BINS = 20

    def __init__(self, classes: list[str]) -> None:
        self.classes = classes
        self.per_class = np.zeros(len(classes), dtype=np.int64)
        self.edges = np.linspace(0.0, 1.0, self.BINS + 1)
        self.conf = np.zeros(self.BINS, dtype=np.int64)
        self.sizes = np.zeros(len(classes) + 1, dtype=np.int64)
        self.n = 0

    def add(self, pred: pd.DataFrame) -> None:
        if not len(pred):
            return
        codes = pd.Index(self.classes).get_indexer(pd.Index(pred["label"].astype(str)))
        self.per_class += np.bincount(codes[codes >= 0], minlength=len(self.classes))
        self.conf += np.histogram(pred["confidence"].to_numpy(dtype=float), bins=self.edges)[0]
        if "prediction_set" in pred.columns:
            size = pred["prediction_set"].map(len).to_numpy(dtype=np.int64)
            self.sizes += np.bincount(
                np.minimum(size, len(self.classes)), minlength=len(self.sizes)
            )
        self.n += len(pred)

    def summary(self) -> dict[str, Any]:
        n_sets = int(self.sizes.sum())
        return {
            "label_counts": dict(zip(self.classes, self.per_class.tolist(), strict=True)),
            "mean_set_size": float((np.arange(len(self.sizes)) * self.sizes).sum() / n_sets)
            if n_sets
            else None,
        }

    def report(self, summary: dict[str, Any], model: Any) -> str:
        from ..report import (
            bar_chart,
            histogram_counts,
            reliability_chart_from_bins,
            render_report,
        )

        charts = [
            {
                "svg": bar_chart(
                    self.per_class.astype(float),
                    self.classes,
                    title="Predicted labels",
                    xlabel="items",
                    value_labels=[f"{v:,}" for v in self.per_class],
                ),
                "caption": "Items per predicted class (the 25 most frequent).",
            },
            {
                "svg": histogram_counts(
                    self.edges,
                    self.conf,
                    title="Confidence of the predictions",
                    xlabel="calibrated probability of the predicted class",
                ),
                "caption": "Calibrated at training on rows the network did not train on (the "
                "reliability diagram beside it).",
            },
        ]
        rel = reliability_chart_from_bins(
            model.metadata.get("metrics", {}).get("reliability_after"),
            title="The model's out-of-sample reliability",
            against="share matching the given label",
        )
        if rel is not None:
            charts.append(
                {
                    "svg": rel,
                    "caption": "Measured at training on rows the network did not train on, "
                    "against their given labels: how far these probabilities can be trusted.",
                }
            )
        if self.sizes.sum():
            shown = np.flatnonzero(self.sizes)
            charts.append(
                {
                    "svg": bar_chart(
                        self.sizes[shown].astype(float),
                        [f"{k} class" + ("" if k == 1 else "es") for k in shown],
                        title="Size of the prediction sets",
                        xlabel="items",
                        sort=False,
                        value_labels=[f"{v:,}" for v in self.sizes[shown]],
                    ),
                    "caption": "Conformal sets: the classes that cannot be ruled out at the "
                    "calibrated level; a set of 1 is a confident prediction.",
                }
            )
        metrics = model.metadata.get("metrics", {})
        acc = metrics.get("accuracy_vs_given_labels")
        cards = [
            {"value": f"{self.n:,}", "label": "items predicted"},
            {"value": f"{len(self.classes):,}", "label": "classes"},
            {
                "value": f"{100 * acc:.1f}%" if isinstance(acc, float) else "–",
                "label": "model's out-of-sample accuracy",
                "tone": "neutral",
                "note": "measured at training, against the given labels",
            },
            {
                "value": f"{summary['mean_set_size']:.2f}" if summary.get("mean_set_size") else "–",
                "label": "mean prediction-set size",
            },
            {"value": str(summary["engine"]), "label": "engine"},
        ]
        return render_report(
            "truelabel.scale",
            "predict_report.html.j2",
            kind=f"predict --engine {summary['engine']}",
            cards=cards,
            charts=charts,
            s=summary,
        )


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
            tally = _Tally(list(m.classes))
            if client is None:
                for df in iter_table_chunks(path, columns=cols, chunk_rows=rows):
                    df[_ROW] = df.index.to_numpy()
                    pred = _predict_frame(df, model_path, tcol, id, alpha)
                    run.write_parquet(f"predictions/part-{n_parts:05d}.parquet", pred)
                    tally.add(pred)
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
                    frame = part.compute()
                    run.write_parquet(f"predictions/part-{i:05d}.parquet", frame)
                    tally.add(frame)
                    n_parts += 1
            summary = {
                "n": int(n),
                "classes": list(m.classes),
                "model": model_path,
                "data": str(path),
                "n_partitions": n_parts,
                "engine": eng.name,
                "seconds": round(time.perf_counter() - t0, 3),
            }
            summary.update(tally.summary())
            run.write_json("summary.json", summary)
            write_report(run, tally.report(summary, m))
    finally:
        if own:
            eng.close()
    return LargePredictResult(out=out_p, summary=summary)
