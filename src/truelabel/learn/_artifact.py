"""The trained-model artifact: train, save, load, predict.

A model directory holds::

    model.json            format version, classes, featurizer spec, temperature,
                          conformal thresholds, hyperparameters, metrics, versions,
                          training-data hash
    weights.safetensors   network weights (no pickle)
    tfidf.json            vocabulary and idf, when the featurizer is tfidf
    run.json              written by RunDir (atomic publication)
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._errors import InputError
from .._numeric import softmax
from .._types import BoolArray, Float32Array
from ..report import ReportMixin
from ._defaults import (
    DEFAULT_EARLY_STOPPING,
    DEFAULT_FEATURIZER,
    DEFAULT_LABEL_NOISE,
    DEFAULT_LOSS,
    DEFAULT_NOISE_CORRECTION,
    DEFAULT_NOISE_SCALE,
)
from ._models import forward_numpy

__all__ = ["FORMAT", "TrainedModel", "load_model", "predict_table", "train_model"]

logger = logging.getLogger(__name__)

#: Artifact format; a model directory with another major version is refused.
FORMAT = "truelabel-model/1"
_TFIDF_PARAMS = {
    "ngram_range": [1, 2],
    "sublinear_tf": True,
    "strip_accents": "unicode",
    "lowercase": True,
    "norm": "l2",
}
FEATURIZER_CHOICES = ("tfidf", "minilm", "static", "vectors", "tabular")
MODEL_CHOICES = ("logreg", "mlp")
CONFORMAL_CHOICES = ("marginal", "class", "clustered")
LABEL_NOISE_CHOICES = ("estimate", "none")


def _versions() -> dict[str, str]:
    import numpy
    import scipy
    import sklearn

    from .. import __version__

    out = {
        "truelabel": __version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return out


def _tfidf_from_spec(vocab: dict[str, int], idf: Sequence[float]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    kw = dict(_TFIDF_PARAMS)
    kw["ngram_range"] = tuple(kw["ngram_range"])  # type: ignore[arg-type]
    vec = TfidfVectorizer(vocabulary=vocab, dtype=np.float32, **kw)  # type: ignore[arg-type]
    vec.idf_ = np.asarray(idf, dtype=np.float64)
    return vec


@dataclass(repr=False)
class TrainedModel(ReportMixin):
    """A trained, calibrated classifier with its featurizer: what ``load_model`` returns.

    Attributes
    ----------
    classes : list of str
    featurizer : dict
        ``{"name": "tfidf" | "minilm" | "static" | "vectors", ...}``.
    weights : list of dict of ndarray
        One network (two after co-teaching, averaged).
    temperature : float
        Applied to the logits of the averaged probabilities.
    conformal : dict
        ``{"score": "lac", "alphas": [...], "quantiles": [[K floats] per alpha]}``.
    metadata : dict
        Everything else in ``model.json`` (versions, hyperparameters, metrics, data hash).
    """

    classes: list[str]
    featurizer: dict[str, Any]
    weights: list[dict[str, np.ndarray]]
    temperature: float
    conformal: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    tfidf: dict[str, Any] | None = None
    _vectorizer: Any = field(default=None, repr=False)
    _featurizer_obj: Any = field(default=None, repr=False)

    @property
    def n_features(self) -> int:
        """Input dimension of the network."""
        return int(self.weights[0]["W0"].shape[0])

    @property
    def text_column(self) -> str | None:
        """The text column used at training (the default for ``predict``)."""
        return self.metadata.get("text_column")

    # ------------------------------------------------------------- features
    def featurize(self, texts: Sequence[str]) -> np.ndarray | sp.csr_matrix:
        """Re-create the training featurizer and turn ``texts`` into features, (N, D)."""
        texts = [str(t) for t in texts]
        empty = [i for i, t in enumerate(texts) if not t.strip()]
        if empty:
            raise InputError(
                f"text {empty[0]} is empty or whitespace ({len(empty)} empty in all); the "
                "model needs some text for every item."
            )
        name = self.featurizer["name"]
        if name == "tabular":
            raise InputError(
                "this model was trained on table columns "
                f"{self.featurizer.get('columns', [])[:10]}; pass a DataFrame with them."
            )
        if name == "vectors":
            raise InputError(
                "this model was trained on precomputed vectors; pass vectors of dimension "
                f"{self.n_features}, not texts."
            )
        if name == "tfidf":
            if self._vectorizer is None:
                if self.tfidf is None:
                    raise InputError("the model directory lacks tfidf.json; retrain the model.")
                self._vectorizer = _tfidf_from_spec(self.tfidf["vocabulary"], self.tfidf["idf"])
            return sp.csr_matrix(self._vectorizer.transform(texts), dtype=np.float32)
        if self._featurizer_obj is None:
            from ..featurize import get_featurizer

            try:
                self._featurizer_obj = get_featurizer(name)
            except ImportError as exc:
                raise InputError(
                    f"featurizer {name!r} used at training is not available here ({exc}); "
                    "install the same truelabel version as the one that trained the model."
                ) from None
            got = getattr(self._featurizer_obj, "model_id", None)
            want = self.featurizer.get("model_id")
            if want and got and got != want:
                logger.warning(
                    "featurizer %s differs from the one used at training (%s)", got, want
                )
        return np.asarray(self._featurizer_obj.transform(texts), dtype=np.float32)

    def _check_vectors(self, X: Any) -> np.ndarray | sp.csr_matrix:
        if sp.issparse(X):
            Xc = sp.csr_matrix(X, dtype=np.float32)
        else:
            Xc = np.asarray(X, dtype=np.float32)
        if Xc.ndim != 2:
            raise InputError(f"vectors must be 2-D (N, {self.n_features}); got shape {Xc.shape}.")
        if Xc.shape[1] != self.n_features:
            raise InputError(
                f"vectors have dimension {Xc.shape[1]} but the model expects "
                f"{self.n_features} (featurizer {self.featurizer['name']!r})."
            )
        data = Xc.data if sp.issparse(Xc) else Xc
        if not np.all(np.isfinite(data)):
            raise InputError("vectors contain NaN or infinite values.")
        return Xc

    # ------------------------------------------------------------- predict
    def predict_proba(self, inputs: Any, *, calibrated: bool = True) -> Float32Array:
        """Calibrated class probabilities.

        Parameters
        ----------
        inputs : sequence of N str, or array of shape (N, D)
            Texts (featurized as at training) or feature vectors.
        calibrated : bool, default True
            Apply the fitted temperature.

        Returns
        -------
        ndarray of shape (N, K), float32; columns follow ``classes``.
        """
        X = self._inputs(inputs)
        if X.shape[0] == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        p = sum(softmax(forward_numpy(X, w).astype(np.float64)) for w in self.weights)
        p = np.asarray(p, dtype=np.float64) / len(self.weights)
        if calibrated and self.temperature != 1.0:
            p = softmax(np.log(np.clip(p, 1e-12, 1.0)) / self.temperature)
        return p.astype(np.float32)

    def featurize_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode a table's feature columns as at training (tabular models), (N, D)."""
        if self.featurizer["name"] != "tabular":
            raise InputError(
                f"this model was trained on {self.featurizer['name']!r} features, not table "
                "columns; pass texts or vectors."
            )
        if self._featurizer_obj is None:
            from ..featurize import TabularFeaturizer

            self._featurizer_obj = TabularFeaturizer.from_spec(self.featurizer)
        return np.asarray(self._featurizer_obj.transform(frame), dtype=np.float32)

    def _inputs(self, inputs: Any) -> np.ndarray | sp.csr_matrix:
        if isinstance(inputs, pd.DataFrame):
            return self.featurize_frame(inputs)
        if sp.issparse(inputs):
            return self._check_vectors(inputs)
        if isinstance(inputs, np.ndarray) and inputs.dtype.kind in "fiu":
            return self._check_vectors(inputs)
        if isinstance(inputs, str):
            inputs = [inputs]
        return self.featurize(list(inputs))

    def predict(self, inputs: Any) -> list[str]:
        """Most probable class name of each input."""
        return [self.classes[i] for i in self.predict_proba(inputs).argmax(axis=1)]

    def predict_sets(self, probs: Float32Array, *, alpha: float | None = None) -> BoolArray:
        """Conformal prediction sets from calibrated probabilities.

        Parameters
        ----------
        probs : ndarray of shape (N, K), from :meth:`predict_proba`
        alpha : float, optional
            One of the levels stored at training (default the first, usually 0.1).

        Returns
        -------
        ndarray of shape (N, K), bool
            LAC sets (``1 - p_k <= q_k``) that always contain the top class, so no set
            is empty; this can only raise the coverage.
        """
        alphas = [float(a) for a in self.conformal["alphas"]]
        if not alphas:
            raise InputError(
                "this model has no conformal calibration (it was trained without labeled "
                "held-out rows: positives-only, candidate sets or bag proportions)."
            )
        a = alphas[0] if alpha is None else float(alpha)
        matches = [i for i, v in enumerate(alphas) if abs(v - a) < 1e-9]
        if not matches:
            raise InputError(f"alpha {a} was not calibrated at training; choose one of {alphas}.")
        q = np.asarray(self.conformal["quantiles"][matches[0]], dtype=np.float64)
        q = np.where(np.isfinite(q), q, np.inf)
        p = np.asarray(probs, dtype=np.float64)
        sets = (1.0 - p) <= q[None, :]
        if p.shape[0]:
            sets[np.arange(p.shape[0]), p.argmax(axis=1)] = True  # never an empty set
        return sets

    # ------------------------------------------------------------- save
    def to_json(self) -> dict[str, Any]:
        """The ``model.json`` content."""
        conf = dict(self.conformal)
        conf["quantiles"] = [
            [None if not np.isfinite(v) else float(v) for v in row] for row in conf["quantiles"]
        ]
        return {
            **self.metadata,
            "format": FORMAT,
            "classes": list(self.classes),
            "featurizer": self.featurizer,
            "temperature": float(self.temperature),
            "conformal": conf,
            "n_networks": len(self.weights),
            "n_features": self.n_features,
        }

    def save(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write the model directory atomically (with its ``report.html``); returns its path."""
        from safetensors.numpy import save_file

        from ..io import RunDir
        from ..report import write_report

        tensors = {
            f"net{i}.{k}": np.ascontiguousarray(v)
            for i, w in enumerate(self.weights)
            for k, v in w.items()
        }
        with RunDir(out, kind="model", overwrite=overwrite) as run:
            save_file(tensors, str(run.file("weights.safetensors")), metadata={"format": FORMAT})
            if self.tfidf is not None:
                run.write_json("tfidf.json", self.tfidf)
            run.write_json("model.json", self.to_json())
            write_report(run, self._render_report())
        return Path(out)

    # ------------------------------------------------------------- notebook
    def __repr__(self) -> str:
        m = self.metadata.get("metrics", {})
        acc = m.get("accuracy_vs_given_labels")
        return (
            f"TrainedModel(classes={len(self.classes)}, featurizer={self.featurizer.get('name')!r}, "
            f"model={self.metadata.get('model')!r}, accuracy="
            + (f"{acc:.3f})" if isinstance(acc, float) else "None)")
        )

    def _render_report(self) -> str:
        from ._report import render_train_report

        return render_train_report(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        m = self.metadata.get("metrics", {})
        return [
            ("classes", len(self.classes)),
            ("featurizer", self.featurizer.get("name")),
            ("model", f"{self.metadata.get('model')}, loss {self.metadata.get('loss')}"),
            (
                f"out-of-sample accuracy ({m.get('calibration_data')}, vs given labels)",
                m.get("accuracy_vs_given_labels"),
            ),
            ("out-of-sample ECE after calibration", m.get("ece_vs_given_labels_after")),
            ("temperature", self.temperature),
        ]


def read_model_json(p: Path) -> dict[str, Any]:
    """The parsed ``model.json`` of model directory ``p``; an :class:`InputError` when it is
    no model directory or the file is not valid JSON."""
    meta_path = p / "model.json"
    if not meta_path.is_file():
        raise InputError(
            f"{p} is not a truelabel model directory (no model.json); pass the --out folder "
            "of `truelabel train`."
        )
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{meta_path} is not valid JSON ({exc}); retrain the model.") from None
    return meta


def load_model(path: str | Path) -> TrainedModel:
    """Load a model directory written by ``truelabel train`` / :meth:`TrainedModel.save`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    TrainedModel

    Raises
    ------
    InputError
        Not a model directory, a model from another artifact format, missing files.
    """
    from safetensors.numpy import load_file

    p = Path(path)
    meta = read_model_json(p)
    fmt = meta.get("format")
    if fmt != FORMAT:
        from .. import __version__

        made_by = meta.get("versions", {}).get("truelabel", "an unknown version")
        raise InputError(
            f"{p} holds a model in format {fmt!r} written by truelabel {made_by}; this is "
            f"truelabel {__version__}, which reads {FORMAT!r}. Retrain the model with this "
            f"version, or install truelabel=={made_by} to use it."
        )
    wpath = p / "weights.safetensors"
    if not wpath.is_file():
        raise InputError(f"{p} lacks weights.safetensors; the model directory is incomplete.")
    try:
        flat = load_file(str(wpath))
    except Exception as exc:  # safetensors raises its own SafetensorError on a corrupt file
        raise InputError(
            f"{wpath} is not a readable weights file ({exc}); the model directory is damaged: "
            "retrain the model or restore the folder from a copy."
        ) from None
    try:
        return _model_from_parts(p, meta, flat)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(
            f"{p}: model.json or tfidf.json is damaged ({type(exc).__name__}: {exc}); retrain "
            "the model or restore the folder from a copy."
        ) from None


def _model_from_parts(p: Path, meta: dict[str, Any], flat: dict[str, np.ndarray]) -> TrainedModel:
    n_nets = int(meta.get("n_networks", 1))
    weights = [
        {k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith(f"net{i}.")}
        for i in range(n_nets)
    ]
    k = len(meta["classes"])
    for w in weights:  # the output layer's bias has one entry per class
        last = w.get("b1", w.get("b0"))
        if last is None or last.shape != (k,):
            raise InputError(
                f"{p}: weights.safetensors does not match the {k} classes of model.json; the "
                "model directory is damaged: retrain the model or restore it from a copy."
            )
    tfidf = None
    if meta["featurizer"]["name"] == "tfidf":
        tpath = p / "tfidf.json"
        if not tpath.is_file():
            raise InputError(f"{p} lacks tfidf.json; the model directory is incomplete.")
        tfidf = json.loads(tpath.read_text(encoding="utf-8"))
    conf = dict(meta["conformal"])
    conf["quantiles"] = [
        [np.inf if v is None else float(v) for v in row] for row in conf["quantiles"]
    ]
    keep = {
        k: v
        for k, v in meta.items()
        if k
        not in ("classes", "featurizer", "temperature", "conformal", "n_networks", "n_features")
    }
    cls: type[TrainedModel] = TrainedModel
    if meta.get("task", "classification") != "classification":
        from ._table_artifact import TableTaskModel

        cls = TableTaskModel
    return cls(
        classes=[str(c) for c in meta["classes"]],
        featurizer=meta["featurizer"],
        weights=weights,
        temperature=float(meta["temperature"]),
        conformal=conf,
        metadata=keep,
        tfidf=tfidf,
    )


# ---------------------------------------------------------------------- training
def _data_hash(ids: np.ndarray, texts: np.ndarray | None, X: Any, targets: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.asarray(ids).astype(str).astype("U").tobytes())
    if texts is not None:
        for t in texts:
            h.update(str(t).encode("utf-8"))
            h.update(b"\0")
    elif X is not None:
        h.update(np.ascontiguousarray(X).tobytes())
    h.update(np.ascontiguousarray(targets, dtype=np.float32).tobytes())
    return h.hexdigest()


def _read_label_table(labels: Any, item_id: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Align an aggregate/labels table to the dataset.

    Returns (targets (M, K) float32, classes, row positions in the dataset (M,)).
    """
    from ..io import read_table

    df = labels if isinstance(labels, pd.DataFrame) else read_table(labels)
    name = "the labels DataFrame" if isinstance(labels, pd.DataFrame) else str(labels)
    if "item_id" not in df.columns:
        raise InputError(
            f"{name} has no item_id column (columns: {list(df.columns)[:10]}); pass the "
            "labels.parquet of `truelabel aggregate` or a table with item_id and label."
        )
    pcols = [c for c in df.columns if str(c).startswith("p_")]
    pos = pd.Index(np.asarray(item_id).astype(str))
    rows = pos.get_indexer(df["item_id"].astype(str))
    found = rows >= 0
    if not found.any():
        raise InputError(
            f"none of the item_id values of {name} match the data's ids (e.g. "
            f"{df['item_id'].tolist()[0]!r} vs {item_id.tolist()[0]!r}); pass the same --id-column as "
            "when the labels were made."
        )
    if (~found).any():
        logger.warning(
            "%d rows of %s match no item of the data and are ignored", int((~found).sum()), name
        )
    df = df.loc[found]
    rows = rows[found]
    if pcols:
        classes = [str(c)[2:] for c in pcols]
        t = df[pcols].to_numpy(dtype=np.float64)
        from .._validation import check_pred_probs

        check_pred_probs(t, name=f"{name} columns {pcols[0]}…", atol=1e-2)
        t = t / t.sum(axis=1, keepdims=True)
        return t.astype(np.float32), classes, rows
    if "label" not in df.columns:
        raise InputError(f"{name} has neither p_<class> columns nor a label column.")
    lab = df["label"]
    keep = lab.notna().to_numpy()
    from ..io import encode_labels

    codes, classes = encode_labels(lab[keep].astype(str).to_numpy())
    t = np.zeros((len(codes), len(classes)), dtype=np.float32)
    t[np.arange(len(codes)), codes] = 1.0
    return t, [str(c) for c in classes], rows[keep]


def _featurize_for_training(
    texts: np.ndarray | None, vectors: np.ndarray | None, featurizer: str
) -> tuple[Any, dict[str, Any], dict[str, Any] | None]:
    """Features of text or vector rows, the featurizer spec and (tfidf) its vocabulary."""
    spec: dict[str, Any] = {"name": featurizer}
    if featurizer == "vectors":
        assert vectors is not None
        return vectors, spec, None
    assert texts is not None
    if featurizer == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        kw = dict(_TFIDF_PARAMS)
        kw["ngram_range"] = tuple(kw["ngram_range"])  # type: ignore[arg-type]
        vec = TfidfVectorizer(
            max_features=50_000, min_df=2 if len(texts) >= 20 else 1, dtype=np.float32, **kw
        )  # type: ignore[arg-type]
        X: Any = sp.csr_matrix(vec.fit_transform(list(texts)), dtype=np.float32)
        tfidf_spec = {
            "vocabulary": {str(k): int(v) for k, v in vec.vocabulary_.items()},
            "idf": [float(v) for v in vec.idf_],
            "params": _TFIDF_PARAMS,
        }
        spec["model_id"] = "tfidf-artifact-v1"
        return X, spec, tfidf_spec
    from ..featurize import featurize as _featurize
    from ..featurize import get_featurizer

    try:
        X = np.asarray(_featurize(list(texts), method=featurizer), dtype=np.float32)
    except ImportError as exc:
        raise InputError(
            f"featurizer {featurizer!r} is not available in this installation ({exc}); "
            "use --featurizer minilm or tfidf."
        ) from None
    spec["model_id"] = getattr(get_featurizer(featurizer), "model_id", featurizer)
    return X, spec, None


def fit_features(
    ds: Any,
    rows: np.ndarray,
    featurizer: str,
    *,
    feature_columns: str | Sequence[str] | None = None,
    exclude: Sequence[str | None] = (),
) -> tuple[Any, dict[str, Any], dict[str, Any] | None]:
    """Fit the training featurizer on rows ``rows`` of a Dataset and featurize them.

    Parameters
    ----------
    ds : Dataset
    rows : ndarray of int
    featurizer : {"minilm", "static", "tfidf", "vectors", "tabular"}
    feature_columns : "auto", "a,b,c" or list, optional
        For ``tabular``: the columns to encode (``auto``: all but ``exclude``).
    exclude : columns that are never features (label, id, bag, candidates).

    Returns
    -------
    X : ndarray (N, D) float32 or CSR matrix
    spec : dict
        The ``featurizer`` entry of ``model.json`` (for ``tabular`` it holds the fitted
        encoder, so ``predict`` encodes new rows the same way).
    tfidf_spec : dict or None
    """
    t0 = time.time()
    if featurizer == "tabular":
        from ..featurize import featurize_table

        Xt, tab = featurize_table(ds.frame.iloc[rows], feature_columns or "auto", exclude=exclude)
        logger.info("features %s in %.1fs", Xt.shape, time.time() - t0)
        return Xt, tab.to_spec(), None
    X, spec, tfidf_spec = _featurize_for_training(
        ds.text[rows] if ds.text is not None else None,
        ds.vectors[rows] if ds.vectors is not None else None,
        featurizer,
    )
    logger.info("features %s in %.1fs", X.shape, time.time() - t0)
    return X, spec, tfidf_spec


def train_model(
    data: str | Path | pd.DataFrame,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    labels: str | Path | pd.DataFrame | None = None,
    id_column: str | None = None,
    vectors_column: str | None = None,
    feature_columns: str | Sequence[str] | None = None,
    featurizer: str = DEFAULT_FEATURIZER,
    model: str = "logreg",
    loss: str = DEFAULT_LOSS,
    scheme: str = "plain",
    forget_rate: float = 0.2,
    epochs: int | None = None,
    early_stopping: bool = DEFAULT_EARLY_STOPPING,
    holdout: float | None = None,
    alphas: Sequence[float] = (0.1, 0.05),
    calibrate: bool = True,
    conformal: str = "marginal",
    label_noise: str = DEFAULT_LABEL_NOISE,
    noise_scale: float | str = DEFAULT_NOISE_SCALE,
    noise_correction: str = DEFAULT_NOISE_CORRECTION,
    unlabeled: str = "self-train",
    random_state: int = 0,
) -> TrainedModel:
    """Train a noise-robust, calibrated classifier with conformal sets from a table.

    By default every labeled row is predicted out of sample by a 5-fold cross-fit; those
    probabilities fit the temperature and the conformal thresholds, and the final model
    is trained on all rows. Confident learning estimates from them how the given labels
    are wrong (the noise matrix ``P(given | true)``, reported in the metadata). With
    ``label_noise="estimate"`` the temperature and the conformal thresholds use it, so
    the probabilities and the prediction sets aim at the *true* labels instead of the
    given ones: right for labels flipped at random, wrong when the model is weak or the
    noise sits on hard items (most human and LLM noise), which is why it is not the
    default (``BENCHMARKS.md``, "Training under label noise").

    Rows with an empty label are self-trained on (``unlabeled="self-train"``): each
    fold's model is self-trained on the other folds' labeled rows plus the unlabeled
    rows, so the calibration scores stay out of sample and only labeled rows are scored;
    pseudo-labels never enter calibration.

    Parameters
    ----------
    data : path or DataFrame
        Items with a text column (or a vectors column).
    text_column, label_column, id_column, vectors_column : str, optional
    feature_columns : "auto", "a,b,c" or list, optional
        Tabular input instead of text: these columns (``auto``: every column but the
        label and id columns), numeric ones standardised, the others one-hot encoded
        (:class:`truelabel.featurize.TabularFeaturizer`); the fitted encoder is saved
        with the model.
    labels : path or DataFrame, optional
        Instead of ``label_column``: a table with ``item_id`` and either ``p_<class>``
        columns (a posterior, used as soft targets; calibrated against it, no noise
        matrix) or a ``label`` column.
    featurizer : {"minilm", "static", "tfidf", "vectors", "tabular"}
    model : {"logreg", "mlp"}
    loss : {"ce", "gce", "sce", "elr", "forward"}
        ``forward``: forward loss correction with the estimated noise matrix.
    scheme : {"plain", "smallloss", "coteach", "prune"}
    forget_rate : float
        For ``smallloss``/``coteach``: roughly the expected noise rate.
    epochs : int, optional
    early_stopping : bool
        Hold out 10% of the rows a model is fitted on (labels as given) and keep the
        epoch with the best accuracy on them (see :class:`RobustLogisticRegression`).
    holdout : float in (0, 0.5], optional
        Calibrate on this share of the labeled rows, held out from the final model,
        instead of the cross-fit. Soft targets, and classes with fewer than 5 items,
        always use a 0.2 holdout.
    alphas : sequence of float
        Conformal levels to calibrate (the first is the default at prediction).
    calibrate : bool
        Fit a temperature (else T = 1).
    conformal : {"marginal", "class", "clustered"}
        Conformal thresholds: one for all classes; one per class (needs
        ``ceil(1/alpha) - 1`` items per class, else that class's sets always include
        it); or clustered conformal (Ding et al. 2023; only with ``label_noise="none"``
        or soft targets: it cannot correct for noise).
    label_noise : {"none", "estimate"}
        ``"none"``: calibration treats the given labels as true (its probabilities and
        sets then reproduce the noise of the labels). ``"estimate"``: calibration uses
        the noise matrix that confident learning estimates, shrunk by ``noise_scale``.
    noise_scale : float in [0, 1], "mle", "conservative" or "anchored"
        How much of the estimated noise matrix to believe
        (:class:`truelabel.calibrate.TemperatureScaling`): confident learning counts a
        weak model's own errors as label noise.
    noise_correction : {"invert", "posterior"}
        How the conformal thresholds use the noise matrix
        (:func:`truelabel.calibrate.true_label_weights`).
    unlabeled : {"self-train", "drop"}
        Rows whose ``label_column`` is empty: ``self-train`` learns from them too
        (semi-supervised, :class:`SelfTrainingClassifier`: confidence-weighted
        pseudo-labels with per-class dynamic thresholds and a drift guard; the loss is
        then cross-entropy); ``drop`` leaves them out.
    random_state : int

    Returns
    -------
    TrainedModel
    """
    from ..calibrate import expected_calibration_error
    from ..io import load_dataset
    from ._calibrated import NOISE_CORRECTIONS, calibrate_fit, fit_for_calibration
    from ._semi import featurize_unlabeled, split_unlabeled

    if feature_columns is not None:
        featurizer = "tabular"
    if featurizer not in FEATURIZER_CHOICES:
        raise InputError(f"unknown featurizer {featurizer!r}; choose one of {FEATURIZER_CHOICES}.")
    if model not in MODEL_CHOICES:
        raise InputError(f"unknown model {model!r}; choose one of {MODEL_CHOICES}.")
    if scheme not in ("plain", "smallloss", "coteach", "prune"):
        raise InputError(
            f"unknown scheme {scheme!r}; choose one of plain, smallloss, coteach, prune."
        )
    if holdout is not None and not 0 < holdout <= 0.5:
        raise InputError(f"holdout must be in (0, 0.5]; got {holdout}.")
    if conformal not in CONFORMAL_CHOICES:
        raise InputError(
            f"unknown conformal mode {conformal!r}; choose one of {', '.join(CONFORMAL_CHOICES)}."
        )
    if label_noise not in LABEL_NOISE_CHOICES:
        raise InputError(
            f"unknown label_noise {label_noise!r}; choose one of {', '.join(LABEL_NOISE_CHOICES)}."
        )
    if noise_correction not in NOISE_CORRECTIONS:
        raise InputError(
            f"unknown noise correction {noise_correction!r}; choose one of "
            f"{', '.join(NOISE_CORRECTIONS)}."
        )
    if (label_column is None) == (labels is None):
        raise InputError("pass exactly one of --label-column or --labels.")
    if featurizer == "vectors" and vectors_column is None:
        raise InputError("featurizer 'vectors' needs --vectors-column.")
    if featurizer not in ("vectors", "tabular") and text_column is None:
        raise InputError(
            "pass --text-column, --feature-columns (tabular data), or --featurizer vectors "
            "with --vectors-column."
        )
    if conformal == "clustered" and label_noise == "estimate" and labels is None:
        raise InputError(
            "--conformal clustered cannot correct its thresholds for label noise; use "
            "--conformal marginal or class, or add --label-noise none to treat the given "
            "labels as true."
        )
    source = None if isinstance(data, pd.DataFrame) else str(data)
    data, unl_frame, n_unlabeled = split_unlabeled(
        data, label_column if labels is None else None, unlabeled
    )
    ds = load_dataset(
        data,
        text_column=text_column if featurizer not in ("vectors", "tabular") else None,
        label_column=label_column,
        id_column=id_column,
        vectors_column=vectors_column,
        require_labels=labels is None,
        drop_option="--unlabeled drop",
    )
    if labels is not None:
        targets, classes, rows = _read_label_table(labels, ds.item_id)
    else:
        assert ds.labels is not None
        classes = ds.class_names()
        targets = np.zeros((len(ds), len(classes)), dtype=np.float32)
        targets[np.arange(len(ds)), ds.labels] = 1.0
        rows = np.arange(len(ds))
    soft = labels is not None and bool((targets.max(axis=1) < 1.0).any())
    if len(classes) < 2:
        raise InputError(f"the labels hold a single class ({classes[0]!r}); need at least 2.")
    texts = ds.text[rows] if ds.text is not None else None
    X, spec, tfidf_spec = fit_features(
        ds, rows, featurizer, feature_columns=feature_columns, exclude=(label_column, id_column)
    )

    hard = targets.argmax(axis=1)
    if len(np.unique(hard)) < 2:
        only = classes[int(hard[0])]
        if labels is not None:
            other = float(np.delete(targets, int(hard[0]), axis=1).max())
            raise InputError(
                f"every item of the labels table has {only!r} as its most likely class (no "
                f"other class gets more than {other:.3g}); a classifier needs at least 2 "
                "classes. Check the label model that produced the table (e.g. `truelabel "
                "aggregate --method mv`)."
            )
        raise InputError(
            f"every label is {only!r}; a classifier needs at least 2 classes: add items of "
            "another class."
        )
    X_unl = (
        None
        if unl_frame is None
        else featurize_unlabeled(unl_frame, spec, tfidf_spec, text_column, X.shape[1])
    )
    fit = fit_for_calibration(
        X,
        targets,
        soft=soft,
        model=model,
        loss=loss,
        scheme=scheme,
        forget_rate=forget_rate,
        epochs=epochs,
        early_stopping=early_stopping,
        holdout=holdout,
        # reported always when it comes free (the CE cross-fit is the calibration one)
        estimate_noise=label_noise == "estimate"
        or (loss == "ce" and scheme == "plain" and holdout is None),
        X_unlabeled=X_unl,
        random_state=random_state,
    )
    if fit.note:
        logger.info("%s", fit.note)
    cal_targets = targets[fit.cal_rows] if soft else hard[fit.cal_rows]
    cal = calibrate_fit(
        fit.cal_probs,
        cal_targets,
        noise_matrix=fit.noise_matrix if label_noise == "estimate" else None,
        calibrate=calibrate,
        noise_scale=noise_scale,
        noise_correction=noise_correction,
        alphas=alphas,
        conformal=conformal,
        random_state=random_state,
        class_names=classes,
    )
    tm = TrainedModel(
        classes=classes,
        featurizer=spec,
        weights=fit.weights,
        temperature=cal.temperature,
        conformal=cal.conformal,
        tfidf=tfidf_spec,
    )
    y_cal = hard[fit.cal_rows]
    p_cal = cal.cal_probs
    sets = tm.predict_sets(p_cal)
    inner = fit.network
    metrics: dict[str, Any] = {
        "calibration_data": fit.mode,
        "n_train": int(fit.n_fit),
        "n_calibration": int(len(fit.cal_rows)),
        "accuracy_vs_given_labels": float((p_cal.argmax(axis=1) == y_cal).mean()),
        "mean_confidence": float(p_cal.max(axis=1).mean()),
        "ece_vs_given_labels_before": expected_calibration_error(fit.cal_probs, y_cal),
        "ece_vs_given_labels_after": expected_calibration_error(p_cal, y_cal),
        "mean_set_size": float(sets.sum(axis=1).mean()),
        "set_coverage_of_given_labels": float(sets[np.arange(len(y_cal)), y_cal].mean()),
        "epochs_run": int(inner.n_epochs_),
        "best_epoch": int(inner.best_epoch_),
    }
    metrics.update(_calibration_diagnostics(fit.cal_probs, p_cal, y_cal, classes))
    noise_info: dict[str, Any] = {"method": "none (labels treated as true)"}
    if fit.noise_estimate is not None:
        ne = fit.noise_estimate
        noise_info = {
            "method": (
                "confident learning on "
                + ("5-fold" if fit.mode == "crossfit" else "3-fold")
                + " cross-fitted "
                + ("self-trained" if fit.self_training is not None else "CE")
                + " probabilities of the labeled rows"
            ),
            "used_for_calibration": label_noise == "estimate",
            "noise_rate": float(ne.noise_rate),
            "noise_matrix": np.round(np.asarray(fit.noise_matrix), 5).tolist(),
            "noise_scale": float(cal.noise_scale),
            "noise_scale_rule": str(noise_scale),
            "noise_scale_cap": cal.noise_scale_cap,
            "noise_rate_used": float(cal.noise_scale * ne.noise_rate)
            if cal.noise_matrix is not None
            else 0.0,
            "noise_matrix_used": None
            if cal.noise_matrix is None
            else np.round(np.asarray(cal.noise_matrix), 5).tolist(),
            "prior": np.round(np.asarray(ne.prior), 5).tolist(),
        }
    elif soft:
        noise_info = {"method": "soft targets (the posterior models the noise)"}
    if fit.note:
        noise_info["note"] = fit.note
    params = {k: v for k, v in inner.get_params().items() if k != "random_state"}
    if isinstance(params.get("noise_matrix"), np.ndarray):
        params["noise_matrix"] = np.round(params["noise_matrix"], 5).tolist()
    tm.metadata = {
        "versions": _versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "training_data": {
            "source": source or ds.name,
            "sha256": _data_hash(ds.item_id[rows], texts, X if texts is None else None, targets),
            "n_items": int(len(rows)),
            "soft_targets": soft,
            "label_source": "labels table" if labels is not None else f"column {label_column}",
            # rows with an empty label: self-trained on, or left out (unlabeled="drop")
            "n_unlabeled": 0 if unl_frame is None else int(len(unl_frame)),
            "n_rows_without_label_left_out": int(n_unlabeled) if unl_frame is None else 0,
        },
        "text_column": text_column,
        "id_column": id_column,
        "vectors_column": vectors_column,
        "model": model,
        "loss": loss,
        "scheme": scheme,
        "random_state": random_state,
        "hyperparameters": params,
        "holdout": holdout,
        "label_noise": noise_info,
        "metrics": metrics,
        "calibrated": bool(calibrate),
    }
    if fit.self_training is not None:
        tm.metadata["supervision"] = "semi-supervised"
        tm.metadata["semi_supervised"] = fit.self_training.summary()
    return tm


def _calibration_diagnostics(
    p_raw: np.ndarray, p_cal: np.ndarray, y: np.ndarray, classes: Sequence[Any]
) -> dict[str, Any]:
    """Reliability bins before and after calibration and the most frequent confusions on
    the calibration rows (out of sample: cross-fitted or held out; for the report, against
    the given labels)."""
    from ..calibrate import reliability_diagram

    k = len(classes)
    pred = p_cal.argmax(axis=1)
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    np.fill_diagonal(cm, 0)
    top = np.argsort(-cm, axis=None, kind="stable")[:15]
    pairs = [
        {"given": str(classes[i // k]), "predicted": str(classes[i % k]), "count": int(cm.flat[i])}
        for i in top
        if cm.flat[i] > 0
    ]
    return {
        "reliability_before": reliability_diagram(p_raw, y).to_dict(),
        "reliability_after": reliability_diagram(p_cal, y).to_dict(),
        "top_confusions": pairs,
    }


def predict_table(
    model: TrainedModel,
    data: str | Path | pd.DataFrame,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
    vectors_column: str | None = None,
    alpha: float | None = None,
    feature_columns: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Predict every row of a table.

    Parameters
    ----------
    model : TrainedModel
    data : path or DataFrame
    text_column : str, optional
        Default: the column used at training.
    id_column : str, optional
        ``item_id`` comes from it, else the 0-based row number (as in the audit).
    vectors_column : str, optional
        For models trained on vectors.
    alpha : float, optional
        Conformal level (one stored at training).
    feature_columns : "auto", "a,b,c" or list, optional
        Tabular models: ``auto`` (or None) uses the training columns; a list must name
        the same columns.

    Returns
    -------
    DataFrame with ``item_id, label, confidence, p_<class>…, prediction_set`` (a list of
    class names; absent for a model without conformal calibration). A multi-label or
    regression model: :func:`~truelabel.learn._table_artifact.predict_table_task`'s table.
    """
    from ..io import load_dataset
    from ._table_artifact import TableTaskModel, predict_table_task

    if model.featurizer["name"] == "tabular":
        ds = load_dataset(data, id_column=id_column, require_labels=False)
        want = list(model.featurizer.get("columns", []))
        if feature_columns is not None and not (
            isinstance(feature_columns, str) and feature_columns.strip() == "auto"
        ):
            from ..featurize import resolve_feature_columns

            got = resolve_feature_columns(ds.frame, feature_columns)
            if got != want:
                raise InputError(
                    f"--feature-columns {got} differ from the training columns {want}; pass "
                    "auto to use the training columns."
                )
        inputs: Any = ds.frame
    elif model.featurizer["name"] == "vectors":
        vcol = vectors_column or model.metadata.get("vectors_column")
        ds = load_dataset(data, vectors_column=vcol, id_column=id_column, require_labels=False)
        assert ds.vectors is not None
        inputs = ds.vectors
    else:
        tcol = text_column or model.text_column
        if tcol is None:
            raise InputError("pass --text-column; the model does not record one.")
        ds = load_dataset(data, text_column=tcol, id_column=id_column, require_labels=False)
        assert ds.text is not None
        inputs = list(ds.text)
    if isinstance(model, TableTaskModel):
        return predict_table_task(model, ds.item_id, inputs, alpha=alpha)
    probs = model.predict_proba(inputs)
    cls = np.asarray(model.classes, dtype=object)
    out = pd.DataFrame(
        {"item_id": ds.item_id, "label": cls[probs.argmax(axis=1)], "confidence": probs.max(axis=1)}
    )
    for j, c in enumerate(model.classes):
        out[f"p_{c}"] = probs[:, j]
    if model.conformal.get("alphas"):
        sets = model.predict_sets(probs, alpha=alpha)
        out["prediction_set"] = [list(cls[row]) for row in sets]
    return out
