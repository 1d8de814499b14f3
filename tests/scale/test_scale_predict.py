"""predict_large: the same predictions as learn.predict_table, chunked and on Dask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scale_helpers import word_table

from truelabel.learn import predict_table, train_model
from truelabel.scale import DaskEngine, predict_large


def test_predict_large_equals_predict_table(tmp_path: Path) -> None:
    df, _, _ = word_table(400, seed=4)
    model_dir = tmp_path / "model"
    train_model(df, text_column="text", label_column="label", featurizer="tfidf", epochs=5).save(
        model_dir
    )
    df.to_parquet(tmp_path / "d.parquet", row_group_size=100)
    from truelabel.learn import load_model

    ref = predict_table(load_model(model_dir), df, text_column="text", id_column="id")
    local = predict_large(
        model_dir, tmp_path / "d.parquet", out=tmp_path / "p1", id="id", chunk_rows=150
    )
    got = pd.read_parquet(tmp_path / "p1" / "predictions")
    assert local.summary["n_partitions"] == 3
    assert got["item_id"].tolist() == ref["item_id"].tolist()
    np.testing.assert_allclose(got["confidence"], ref["confidence"], atol=1e-6)
    eng = DaskEngine(n_workers=2, processes=False)
    try:
        predict_large(model_dir, tmp_path / "d.parquet", out=tmp_path / "p2", engine=eng)
    finally:
        eng.close()
    dist = pd.read_parquet(tmp_path / "p2" / "predictions")
    assert dist["item_id"].tolist() == list(range(400))  # row numbers without --id-column
    assert (dist["label"].to_numpy() == ref["label"].to_numpy()).all()
