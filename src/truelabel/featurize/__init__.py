"""Text (and table columns) → vectors: MiniLM (ONNX), a static distilled embedding, TF-IDF, user vectors.

All featurizers run offline and are cached on disk by content hash + model id.
"""

from ._api import (
    FEATURIZERS,
    LARGE_DATA_ROWS,
    TABLE_FEATURIZERS,
    featurize,
    featurize_table,
    get_featurizer,
    is_cached,
    resolve_featurizer,
)
from ._base import Features, Featurizer
from ._cache import cache_dir, content_hash
from ._minilm import MiniLMFeaturizer
from ._static import StaticFeaturizer
from ._tabular import TabularFeaturizer, resolve_feature_columns
from ._tfidf import TfidfFeaturizer

__all__ = [
    "FEATURIZERS",
    "LARGE_DATA_ROWS",
    "Featurizer",
    "TABLE_FEATURIZERS",
    "Features",
    "MiniLMFeaturizer",
    "StaticFeaturizer",
    "TabularFeaturizer",
    "TfidfFeaturizer",
    "cache_dir",
    "content_hash",
    "featurize",
    "featurize_table",
    "get_featurizer",
    "is_cached",
    "resolve_featurizer",
    "resolve_feature_columns",
]
