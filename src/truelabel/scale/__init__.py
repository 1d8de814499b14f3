"""``truelabel.scale``: the same stages on row chunks (bounded memory) or on Dask partitions.

- :func:`audit_probabilities` / :func:`stream_find_label_issues`: confident learning in
  passes over chunks of ``(labels, pred_probs)``; the same flags as
  :func:`truelabel.audit.find_label_issues`.
- :class:`FeatureStore`: features in a memory-mapped ``.npy`` written chunk by chunk.
- engines: ``local`` (chunks in sequence) and ``dask`` (tasks on a distributed cluster).
"""

from ._aggregate import LargeAggregateResult, aggregate_large
from ._audit import LargeAuditResult, audit_large
from ._confident import (
    ChunkedAudit,
    audit_probabilities,
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
from ._predict import LargePredictResult, predict_large
from ._store import FeatureStore

# Plumbing (memory parsing, chunk planning, stage checkpoints, progress, fingerprints) stays
# in the private modules: import it from there inside truelabel, never from here.
__all__ = [
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
    "aggregate_large",
    "audit_large",
    "audit_probabilities",
    "crossfit_folds",
    "incremental_cross_val_predict_proba",
    "load_vote_store",
    "make_engine",
    "predict_large",
    "save_vote_store",
    "stream_confident_joint",
    "stream_find_label_issues",
    "stream_label_quality",
]
