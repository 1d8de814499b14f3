"""``truelabel.scale``: the same stages on row chunks (bounded memory) or on Dask partitions.

- :func:`audit_probabilities` / :func:`stream_find_label_issues`: confident learning in
  passes over chunks of ``(labels, pred_probs)``; the same flags as
  :func:`truelabel.audit.find_label_issues`.
- :class:`FeatureStore`: features in a memory-mapped ``.npy`` written chunk by chunk.
- :class:`StageRunner`: stages with checkpoints, ``resume`` and progress with ETA.
- engines: ``local`` (chunks in sequence) and ``dask`` (tasks on a distributed cluster).
"""

from ._aggregate import LargeAggregateResult, aggregate_large
from ._audit import LargeAuditResult, audit_large
from ._chunks import count_rows, iter_array_chunks, iter_table_chunks, table_columns
from ._confident import (
    ChunkedAudit,
    audit_probabilities,
    plan_chunk_rows,
    stream_confident_joint,
    stream_find_label_issues,
    stream_label_quality,
)
from ._crossfit import (
    MinibatchLogisticRegression,
    crossfit_folds,
    incremental_cross_val_predict_proba,
)
from ._dawid_skene import ChunkedDawidSkene, load_vote_store, save_vote_store
from ._engine import ENGINES, ChunkedArrays, DaskEngine, Engine, LocalEngine, make_engine
from ._memory import DEFAULT_MAX_MEMORY, chunk_rows_for, parse_memory
from ._predict import LargePredictResult, predict_large
from ._stages import StageRunner, checkpoint_dir_for, fingerprint
from ._store import FeatureStore

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "ENGINES",
    "ChunkedArrays",
    "ChunkedAudit",
    "ChunkedDawidSkene",
    "DaskEngine",
    "Engine",
    "FeatureStore",
    "LargeAggregateResult",
    "LargeAuditResult",
    "LargePredictResult",
    "LocalEngine",
    "MinibatchLogisticRegression",
    "StageRunner",
    "aggregate_large",
    "audit_large",
    "audit_probabilities",
    "checkpoint_dir_for",
    "chunk_rows_for",
    "count_rows",
    "crossfit_folds",
    "fingerprint",
    "incremental_cross_val_predict_proba",
    "iter_array_chunks",
    "iter_table_chunks",
    "load_vote_store",
    "make_engine",
    "parse_memory",
    "plan_chunk_rows",
    "predict_large",
    "save_vote_store",
    "stream_confident_joint",
    "stream_find_label_issues",
    "stream_label_quality",
    "table_columns",
]
