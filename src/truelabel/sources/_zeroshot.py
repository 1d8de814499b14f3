"""Zero-shot labels from class names: similarity to class prototypes, refined transductively.

Each class gets a prototype: the mean embedding of its name, description, keywords and
examples. Items are scored by cosine similarity to every prototype and a softmax with a
temperature turns scores into probabilities. *Transductive refinement* then re-estimates
each prototype from the items most confidently assigned to it (kept close to the original
prototype by ``anchor``) and repeats until the assignments stop changing. Optional
*balancing* rescales the columns so every class gets an equal share (Sinkhorn scaling),
which corrects prototypes that attract everything. *Self-training* finally relabels every
item with a logistic regression fitted on the confident pseudo-labels of the other items
(cross-fitted, a balanced quota per class), the recipe of Lbl2TransformerVec, LOTClass and
TnT-LLM: a discriminative model uses directions of the embedding that a prototype misses.

When some classes have labeled examples and others only names (*generalized zero-shot*),
a supervised expert (logistic regression on the labeled items) scores the seen classes,
the zero-shot expert the unseen ones, and a soft gate — the zero-shot probability that an
item belongs to any seen class — mixes them (the COSMO idea).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._agreement import cohen_kappa
from .._errors import InputError, NotFittedError
from .._numeric import softmax
from .._types import Float32Array, IntArray, RandomState
from .._validation import Interval, Options, check_params
from ..crossfit._selftrain import _fill_missing, self_train_proba
from ..report import ReportMixin
from ._zeroshot_classes import ClassSpec, parse_classes

__all__ = [
    "LabelResult",
    "ZeroShotLabeler",
    "class_texts",
    "label",
    "self_train_proba",
    "zero_shot_proba",
]

logger = logging.getLogger(__name__)

_MIN_KAPPA = 0.3  # default of zero_shot_proba's min_kappa: the drift guard

Embedder = Callable[[Sequence[str]], Any]


def class_texts(spec: ClassSpec) -> list[str]:
    """The texts whose embeddings are averaged into a class prototype.

    The readable name twice (bare and in a sentence), the description, each keyword and
    each example.
    """
    name = spec.readable_name
    texts = [name, f"This text is about {name}."]
    if spec.description:
        texts.append(spec.description)
    texts.extend(spec.keywords)
    texts.extend(spec.examples)
    return texts


def _dense(X: Any) -> np.ndarray:
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float32)


def _normalize(M: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(M, axis=1, keepdims=True)
    return (M / np.maximum(n, 1e-12)).astype(np.float32)


def _row_normalize_any(X: Any) -> Any:
    if sp.issparse(X):
        n = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        return sp.diags(1.0 / np.maximum(n, 1e-12)) @ X
    return _normalize(np.asarray(X, dtype=np.float32))


def _balance(P: np.ndarray, n_iter: int = 20) -> np.ndarray:
    """Sinkhorn scaling: columns sum to N/K, rows sum to 1."""
    n, k = P.shape
    Q = P.astype(np.float64) + 1e-12
    target = n / k
    for _ in range(n_iter):
        Q *= target / Q.sum(axis=0, keepdims=True)
        Q /= Q.sum(axis=1, keepdims=True)
    return Q.astype(np.float32)


def _top_per_class(
    pred: IntArray, conf: np.ndarray, n_classes: int, fraction: float, min_items: int
) -> np.ndarray:
    """Boolean mask of the ``fraction`` most confident items of each predicted class."""
    order = np.lexsort((-conf, pred))  # by class, then by decreasing confidence
    counts = np.bincount(pred, minlength=n_classes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(pred), dtype=np.int64)
    rank[order] = np.arange(len(pred)) - np.repeat(starts, counts)
    quota = np.maximum(np.ceil(fraction * counts), min_items)
    return rank < quota[pred]


def _class_means(
    X: Any, pred: IntArray, mask: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the rows of X selected by ``mask``, per class in ``pred``; and the counts."""
    idx = np.flatnonzero(mask)
    onehot = sp.csr_matrix(
        (np.ones(len(idx), dtype=np.float32), (pred[idx], idx)), shape=(n_classes, X.shape[0])
    )
    sums = _dense(onehot @ X)
    counts = np.asarray(onehot.sum(axis=1)).ravel()
    return sums / np.maximum(counts, 1)[:, None], counts


def zero_shot_proba(
    X: Any,
    prototypes: np.ndarray,
    *,
    temperature: float = 0.05,
    refine: bool = True,
    max_iter: int = 10,
    top_fraction: float = 1.0,
    min_items: int = 3,
    anchor: float = 0.2,
    balance: bool = False,
    tol: float = 1e-3,
    min_kappa: float = _MIN_KAPPA,
) -> tuple[Float32Array, Float32Array, int, bool, bool]:
    """Class probabilities from cosine similarity to prototypes, with optional refinement.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (N, D)
        Item embeddings (normalised here).
    prototypes : ndarray of shape (K, D)
        Initial class prototypes (normalised here).
    temperature : float > 0
        Softmax temperature on cosine similarities; smaller = sharper.
    refine : bool
        Re-estimate prototypes from confident items until assignments are stable.
    max_iter : int
        Maximum refinement rounds.
    top_fraction : float in (0, 1]
        Share of each class's assigned items (most confident first) used to re-estimate it.
    min_items : int
        At least this many items per class are used (when it has that many).
    anchor : float in [0, 1]
        Weight of the original prototype in each re-estimated one.
    balance : bool
        Rescale probabilities so every class gets an equal share of the mass.
    tol : float
        Stop when fewer than this fraction of items change class.
    min_kappa : float
        Guard: the refined labels must agree with the name-only labels beyond chance
        (Cohen's kappa >= ``min_kappa``); otherwise refinement drifted to structure the
        names do not describe (e.g. topics instead of sentiment) and is undone.

    Returns
    -------
    proba : ndarray of shape (N, K), float32
    prototypes : ndarray of shape (K, D), float32
        The final (refined) prototypes.
    n_iter : int
        Refinement rounds run (0 without refinement).
    converged : bool
    accepted : bool
        False when the guard undid the refinement.
    """
    Xn = _row_normalize_any(X)
    P0 = _normalize(np.asarray(prototypes, dtype=np.float32))
    K = P0.shape[0]

    def score(P: np.ndarray) -> np.ndarray:
        S = np.asarray(Xn @ P.T, dtype=np.float32)
        proba = softmax(S / temperature).astype(np.float32)
        return _balance(proba) if balance else proba

    P = P0
    proba = score(P)
    proba0, pred0 = proba, proba.argmax(axis=1)
    n_iter, converged = 0, not refine
    if refine:
        pred = pred0
        for it in range(1, max_iter + 1):
            n_iter = it
            top = np.sort(proba, axis=1)
            conf = top[:, -1] - (top[:, -2] if K > 1 else 0.0)
            mask = _top_per_class(pred, conf, K, top_fraction, min_items)
            means, counts = _class_means(Xn, pred, mask, K)
            new = anchor * P0 + (1 - anchor) * _normalize(means)
            P = np.where((counts > 0)[:, None], _normalize(new), P)
            proba = score(P)
            new_pred = proba.argmax(axis=1)
            changed = float(np.mean(new_pred != pred))
            pred = new_pred
            if changed < tol:
                converged = True
                break
        kappa = cohen_kappa(pred0, pred, K)
        if kappa < min_kappa:
            logger.warning(
                "zero-shot refinement drifted away from the class names (kappa %.2f < %.2f "
                "against the name-only labels); keeping the name-only labels.",
                kappa,
                min_kappa,
            )
            return proba0, P0, n_iter, converged, False
    return proba, P, n_iter, converged, True


@dataclass
class _Seen:
    classes: IntArray  # indices of seen classes
    model: Any  # fitted LogisticRegression over seen classes (or None for a single class)


class ZeroShotLabeler:
    """Label texts from class names alone (scikit-learn style: ``fit`` then attributes).

    Parameters
    ----------
    classes : str, list of str / dict / ClassSpec
        The classes; see :func:`truelabel.sources.parse_classes`.
    featurizer : {"auto", "minilm", "static", "tfidf"} or callable
        How texts become vectors; a callable maps a list of texts to an (N, D) array.
    temperature : float
        Softmax temperature on cosine similarity.
    refine : bool
        Transductive refinement of the prototypes (see :func:`zero_shot_proba`).
    max_iter, top_fraction, anchor : refinement settings.
    balance : bool
        Class-prior balancing (equal share per class).
    self_train : bool
        After refinement, relabel with a cross-fitted logistic regression trained on the
        confident pseudo-labels (see :func:`self_train_proba`). Skipped when the refinement
        guard undid the refinement; undone itself when its labels drift from the name-only
        labels (the same kappa guard).
    self_train_fraction : float in (0, 1]
        Per-class share of ``N / K`` confident items used to train it.
    self_train_rounds : int
        Self-training rounds.
    min_seen_examples : int
        A class with at least this many labeled examples (``y`` or its ``examples``)
        is *seen* and scored by the supervised expert when another class is unseen.
    random_state : int, Generator or None

    Attributes
    ----------
    classes_ : list of str
    class_specs_ : list of ClassSpec
    posterior_ : ndarray of shape (N, K), float32
    labels_ : ndarray of shape (N,), int64
    prototypes_ : ndarray of shape (K, D), float32
    seen_classes_ : ndarray of int
        Classes scored by the supervised expert (empty when not gated).
    n_iter_ : int
    converged_ : bool
    refine_accepted_ : bool
        False when refinement drifted from the names and was undone (see ``min_kappa``).
    self_train_accepted_ : bool
        True when the self-trained labels were kept.
    """

    _constraints = {
        "temperature": [Interval(float, 0, None, closed="neither")],
        "refine": ["boolean"],
        "max_iter": [Interval(int, 1, None)],
        "top_fraction": [Interval(float, 0, 1, closed="right")],
        "anchor": [Interval(float, 0, 1)],
        "balance": ["boolean"],
        "self_train": ["boolean"],
        "self_train_fraction": [Interval(float, 0, 1, closed="right")],
        "self_train_rounds": [Interval(int, 1, None)],
        "min_seen_examples": [Interval(int, 1, None)],
        "featurizer": [Options(("auto", "minilm", "static", "tfidf")), callable],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        classes: Any,
        *,
        featurizer: str | Embedder = "auto",
        temperature: float = 0.05,
        refine: bool = True,
        max_iter: int = 10,
        top_fraction: float = 1.0,
        anchor: float = 0.2,
        balance: bool = False,
        self_train: bool = True,
        self_train_fraction: float = 0.8,
        self_train_rounds: int = 1,
        min_seen_examples: int = 5,
        random_state: RandomState = 0,
    ) -> None:
        self.classes = classes
        self.featurizer = featurizer
        self.temperature = temperature
        self.refine = refine
        self.max_iter = max_iter
        self.top_fraction = top_fraction
        self.anchor = anchor
        self.balance = balance
        self.self_train = self_train
        self.self_train_fraction = self_train_fraction
        self.self_train_rounds = self_train_rounds
        self.min_seen_examples = min_seen_examples
        self.random_state = random_state

    # -- embedding ---------------------------------------------------------------------
    def _embed_pair(self, texts: Sequence[str], extra: Sequence[str]) -> tuple[Any, np.ndarray]:
        """Embed item texts and class texts in one vector space."""
        if callable(self.featurizer):
            return self.featurizer(list(texts)), _dense(self.featurizer(list(extra)))
        from ..featurize import featurize, resolve_featurizer

        method = resolve_featurizer(self.featurizer, len(texts))
        if method == "tfidf":  # fitted on the corpus: embed both together
            both = featurize(list(texts) + list(extra), method="tfidf")
            return both[: len(texts)], _dense(both[len(texts) :])
        return featurize(list(texts), method=method), _dense(featurize(list(extra), method=method))

    def _prototype_texts(self) -> tuple[list[str], IntArray]:
        texts: list[str] = []
        owner: list[int] = []
        for k, spec in enumerate(self.class_specs_):
            t = class_texts(spec)
            texts.extend(t)
            owner.extend([k] * len(t))
        return texts, np.asarray(owner, dtype=np.int64)

    # -- fitting -----------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str] | None = None,
        y: Any = None,
        *,
        X: Any = None,
        class_vectors: np.ndarray | None = None,
    ) -> ZeroShotLabeler:
        """Score every item against the classes (transductively).

        Parameters
        ----------
        texts : sequence of str, length N, optional
            Item texts (embedded with ``featurizer``); or pass ``X``.
        y : array-like of shape (N,), optional
            Known labels for some items: class names or indices, ``None``/``-1`` = unknown.
            Classes with enough known labels become *seen* (generalized zero-shot).
        X : ndarray of shape (N, D), optional
            Precomputed item embeddings (then ``class_vectors`` must be given too, or
            ``featurizer`` must be a callable that embeds the class texts).
        class_vectors : ndarray of shape (K, D), optional
            Precomputed class prototypes, bypassing the class texts.

        Returns
        -------
        self
        """
        check_params(self)
        self.class_specs_ = parse_classes(self.classes)
        self.classes_ = [c.name for c in self.class_specs_]
        K = len(self.classes_)
        ptexts, owner = self._prototype_texts()
        if X is None:
            if texts is None or len(texts) == 0:
                raise InputError("ZeroShotLabeler.fit needs texts (or X); got no items.")
            X, E = self._embed_pair([str(t) for t in texts], ptexts)
        else:
            if class_vectors is None:
                if not callable(self.featurizer):
                    raise InputError(
                        "ZeroShotLabeler.fit got X but no class_vectors; pass class_vectors "
                        "(K, D) or a callable featurizer that embeds the class texts."
                    )
                E = _dense(self.featurizer(ptexts))
            else:
                E = None
        n = X.shape[0]
        if class_vectors is not None:
            protos: np.ndarray = np.asarray(class_vectors, dtype=np.float32)
            if protos.shape != (K, X.shape[1]):
                raise InputError(
                    f"class_vectors has shape {protos.shape}; expected ({K}, {X.shape[1]})."
                )
        else:
            if E is None:
                raise InputError("no class embeddings; pass class_vectors or class texts.")
            onehot = sp.csr_matrix(
                (np.ones(len(owner), dtype=np.float32), (owner, np.arange(len(owner)))),
                shape=(K, len(owner)),
            )
            counts = np.bincount(owner, minlength=K).astype(np.float32)
            protos = _dense(onehot @ _normalize(E)) / counts[:, None]

        known = self._code_y(y, n)
        Xn = _row_normalize_any(X)
        if (known >= 0).any():  # labeled items pull their class prototype towards them
            means, counts = _class_means(Xn, np.maximum(known, 0), known >= 0, K)
            has = counts > 0
            protos[has] = _normalize(protos[has]) + _normalize(means[has])

        proba, P, self.n_iter_, self.converged_, self.refine_accepted_ = zero_shot_proba(
            Xn,
            protos,
            temperature=self.temperature,
            refine=self.refine,
            max_iter=self.max_iter,
            top_fraction=self.top_fraction,
            anchor=self.anchor,
            balance=self.balance,
        )
        self.prototypes_ = P
        lab = known >= 0
        proba = self._self_train(Xn, protos, proba, known)
        self._seen = self._fit_seen(Xn, known, K, E, owner)
        self.seen_classes_ = self._seen.classes if self._seen is not None else np.zeros(0, int)
        proba = self._gate(Xn, proba)
        if lab.any():  # known labels are kept as they are
            proba[lab] = 0.0
            proba[np.flatnonzero(lab), known[lab]] = 1.0
        self.posterior_ = proba.astype(np.float32)
        self.labels_ = self.posterior_.argmax(axis=1).astype(np.int64)
        return self

    def _self_train(
        self, Xn: Any, protos: np.ndarray, proba: np.ndarray, known: IntArray
    ) -> np.ndarray:
        """Self-training step of :meth:`fit` (with its kappa guard); returns the posterior."""
        self.self_train_accepted_ = False
        self._st_models: list[Any] = []
        if not self.self_train or not self.refine_accepted_ or Xn.shape[0] < 2:
            return proba
        K = proba.shape[1]
        start = proba.copy()
        lab = known >= 0
        if lab.any():  # known labels are trusted pseudo-labels
            start[lab] = 0.0
            start[np.flatnonzero(lab), known[lab]] = 1.0
        st, models = self_train_proba(
            Xn,
            start,
            fraction=self.self_train_fraction,
            n_rounds=self.self_train_rounds,
            random_state=self.random_state,
        )
        if self.balance:
            st = _balance(st)
        names_only = zero_shot_proba(
            Xn, protos, temperature=self.temperature, refine=False, balance=self.balance
        )[0].argmax(axis=1)
        kappa = cohen_kappa(names_only, st.argmax(axis=1), K)
        if kappa < _MIN_KAPPA:
            logger.warning(
                "zero-shot self-training drifted away from the class names (kappa %.2f < %.2f "
                "against the name-only labels); keeping the refined labels.",
                kappa,
                _MIN_KAPPA,
            )
            return proba
        self.self_train_accepted_ = True
        self._st_models = models
        return st

    def _code_y(self, y: Any, n: int) -> IntArray:
        known = np.full(n, -1, dtype=np.int64)
        if y is None:
            return known
        arr = np.asarray(y, dtype=object)
        if arr.shape != (n,):
            raise InputError(f"y has shape {arr.shape}; expected ({n},), one entry per item.")
        import pandas as pd

        index = {c: i for i, c in enumerate(self.classes_)}
        ser = pd.Series(arr)
        as_str = ser.astype(str).str.strip()
        unknown = ser.isna().to_numpy() | as_str.isin(["", "-1", "None", "nan"]).to_numpy()
        codes = as_str.map(index)
        num = pd.to_numeric(ser, errors="coerce")
        use_num = codes.isna() & num.notna() & (num >= 0) & (num < len(self.classes_))
        codes = codes.where(~use_num, num)
        bad = codes.isna().to_numpy() & ~unknown
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"y row {i}: label {arr[i]!r} is not one of the {len(self.classes_)} classes "
                f"{self.classes_[:8]}; fix the label or add the class ({int(bad.sum())} such rows)."
            )
        ok = ~unknown
        known[ok] = codes.to_numpy()[ok].astype(np.int64)
        return known

    def _fit_seen(
        self, Xn: Any, known: IntArray, K: int, E: np.ndarray | None, owner: IntArray
    ) -> _Seen | None:
        """Supervised expert for classes with enough labeled examples (if some are unseen)."""
        n_ex = np.bincount(known[known >= 0], minlength=K)
        ex_rows: list[np.ndarray] = []
        ex_lab: list[np.ndarray] = []
        if E is not None:
            n_items_texts = np.array([len(s.examples) for s in self.class_specs_])
            n_ex = n_ex + n_items_texts
            ends = np.cumsum(np.bincount(owner, minlength=K))
            for k, spec in enumerate(self.class_specs_):
                if spec.examples:
                    ex_rows.append(E[ends[k] - len(spec.examples) : ends[k]])
                    ex_lab.append(np.full(len(spec.examples), k))
        seen = np.flatnonzero(n_ex >= self.min_seen_examples)
        if len(seen) == 0 or len(seen) == K:
            return None
        rows = [_dense(Xn[known >= 0])] if (known >= 0).any() else []
        labs = [known[known >= 0]] if (known >= 0).any() else []
        Xs = np.vstack(rows + [_normalize(r) for r in ex_rows])
        ys = np.concatenate(labs + ex_lab)
        keep = np.isin(ys, seen)
        Xs, ys = Xs[keep], ys[keep]
        if len(seen) == 1:
            return _Seen(classes=seen, model=None)
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=10.0, max_iter=500).fit(Xs, ys)
        return _Seen(classes=seen, model=model)

    def _gate(self, Xn: Any, proba: np.ndarray) -> np.ndarray:
        if self._seen is None:
            return proba
        seen = self._seen.classes
        unseen = np.setdiff1d(np.arange(proba.shape[1]), seen)
        gate = proba[:, seen].sum(axis=1, keepdims=True)  # P(seen class | x), zero-shot
        if self._seen.model is None:
            p_seen = np.ones((proba.shape[0], 1), dtype=np.float32)
        else:
            p_seen = self._seen.model.predict_proba(_dense(Xn)).astype(np.float32)
            # columns of predict_proba follow model.classes_ (sorted seen indices)
            p_seen = p_seen[:, np.searchsorted(self._seen.model.classes_, seen)]
        zs = proba[:, unseen]
        zs = zs / np.maximum(zs.sum(axis=1, keepdims=True), 1e-12)
        out = np.empty_like(proba)
        out[:, seen] = gate * p_seen
        out[:, unseen] = (1 - gate) * zs
        return out

    def predict_proba(self, texts: Sequence[str] | None = None, *, X: Any = None) -> Float32Array:
        """Probabilities for new items under the fitted (refined) prototypes, shape (N, K)."""
        if not hasattr(self, "prototypes_"):
            raise NotFittedError("ZeroShotLabeler is not fitted; call fit(texts) first.")
        if X is None:
            if texts is None:
                raise InputError("predict_proba needs texts or X.")
            if callable(self.featurizer):
                X = self.featurizer(list(texts))
            else:
                from ..featurize import featurize, resolve_featurizer

                method = resolve_featurizer(self.featurizer, len(texts))
                if method == "tfidf":
                    raise InputError(
                        "tfidf vectors depend on the corpus; predict_proba on new texts needs "
                        "minilm or static features (or pass X in the fitted space)."
                    )
                X = featurize(list(texts), method=method)
        Xn = _row_normalize_any(X)
        proba = softmax(np.asarray(Xn @ self.prototypes_.T, dtype=np.float32) / self.temperature)
        if getattr(self, "_st_models", None):  # self-trained: average the fold models
            Xd = Xn.tocsr() if sp.issparse(Xn) else _dense(Xn)
            proba = np.mean(
                [_fill_missing(m.predict_proba(Xd), m.classes_, proba) for m in self._st_models],
                axis=0,
            ).astype(np.float32)
        if self.balance:
            proba = _balance(proba)
        return self._gate(Xn, proba).astype(np.float32)

    def predict(self, texts: Sequence[str] | None = None, *, X: Any = None) -> np.ndarray:
        """The most likely class name of each new item, shape (N,) (``classes_`` values).

        Columns of :meth:`predict_proba` follow ``classes_``; the fitted items' integer
        codes are ``labels_``.
        """
        return np.asarray(self.classes_, dtype=object)[
            self.predict_proba(texts, X=X).argmax(axis=1)
        ]


def multi_label_threshold(n_classes: int) -> float:
    """Default score threshold of zero-shot multi-label tags: 1.5 times the uniform share.

    Chosen without gold from the rules measured across GoEmotions and CrowdTruth medical
    (``benchmarks/bench_label_tasks.py``): of the rules tried it had the best mean micro
    F1 and beat top-1 in micro F1 on both sets.
    """
    return 1.5 / max(int(n_classes), 1)


def multi_label_tags(proba: np.ndarray, threshold: float) -> np.ndarray:
    """Tags per item: the top class plus every class scoring at least ``threshold``.

    Parameters
    ----------
    proba : ndarray of shape (N, K)
    threshold : float

    Returns
    -------
    ndarray of shape (N, K), bool
    """
    P = np.asarray(proba)
    top = P >= P.max(axis=1, keepdims=True)
    return top | (P >= threshold)


def join_tags(tags: np.ndarray, names: Sequence[str], sep: str) -> np.ndarray:
    """Join the chosen class names of each row, in class order; shape (N,) object."""
    arr = np.asarray(names, dtype=object)
    return np.asarray([sep.join(arr[row]) for row in np.asarray(tags, dtype=bool)], dtype=object)


@dataclass(repr=False)
class LabelResult(ReportMixin):
    """What :func:`label` produced.

    Attributes
    ----------
    labels : DataFrame
        ``item_id, label, confidence, p_<class>…`` — one row per item.
    votes : DataFrame
        ``item_id, source, label, confidence`` — the zero-shot source, ready for ``aggregate``.
    classes : list of ClassSpec
    summary : dict
        Counts per class, mean confidence, settings, refinement rounds.
    out : Path or None
        The run directory written (when ``out`` was given).
    """

    labels: Any
    votes: Any
    classes: list[ClassSpec]
    summary: dict[str, Any]
    out: Any = None
    texts: Any = None
    known_labels: Any = None

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"LabelResult(n_items={s.get('n_items')}, n_classes={s.get('n_classes')}, "
            f"mean_confidence={float(s.get('mean_confidence', float('nan'))):.3f})"
        )

    def _render_report(self) -> str:
        from ._report import render_label_report

        return render_label_report(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        s = self.summary
        return [
            ("items", s.get("n_items")),
            ("classes", ", ".join(str(c) for c in s.get("classes", [])[:12])),
            ("featurizer", s.get("featurizer")),
            ("mean confidence", s.get("mean_confidence")),
        ]

    def _repr_frame(self) -> tuple[str, Any]:
        return "labels", self.labels[["item_id", "label", "confidence"]]


def label(
    data: Any,
    *,
    text_column: str,
    classes: Any = None,
    classes_file: Any = None,
    featurizer: str = "auto",
    refine: bool = True,
    balance: bool = False,
    self_train: bool = True,
    temperature: float = 0.05,
    id_column: str | None = None,
    label_column: str | None = None,
    out: Any = None,
    overwrite: bool = False,
    source_name: str | None = None,
    multi: bool = False,
    label_sep: str = ",",
    multi_threshold: float | None = None,
) -> LabelResult:
    """Zero-shot labels for a table of texts from class names (``truelabel label``).

    Parameters
    ----------
    data : path or DataFrame
        The items (csv/tsv/jsonl/parquet).
    text_column : str
        Column with the text.
    classes : str or list, optional
        ``"World,Sports,Business,Sci/Tech"`` or a list; or give ``classes_file``.
    classes_file : path, optional
        A ``classes.yaml`` (name, description, keywords, examples).
    featurizer : {"auto", "minilm", "static", "tfidf"}
    refine, balance, self_train, temperature : see :class:`ZeroShotLabeler`.
    id_column : str, optional
        Item ids (default: row numbers).
    label_column : str, optional
        Known labels for some rows (empty = unknown); enables generalized zero-shot.
    out : path, optional
        Run directory for ``labels.parquet``, ``votes.parquet``, ``classes.yaml``,
        ``summary.json``.
    overwrite : bool
        Allow replacing a non-run ``out`` folder.
    source_name : str, optional
        Source name in the votes (default ``zeroshot:<featurizer>``).
    multi : bool
        Multi-label (``label --multi``): an item gets its top class plus every class
        whose score ``p_<class>`` is at least ``multi_threshold``; ``label`` holds the
        tags joined with ``label_sep`` (what ``audit --task multilabel`` and
        ``aggregate --label-type multilabel`` read).
    label_sep : str
        Separator of the joined tags.
    multi_threshold : float, optional
        Default :func:`multi_label_threshold` (1.5 / number of classes), chosen without
        gold across GoEmotions and CrowdTruth medical (BENCHMARKS.md, ``label`` tasks).

    Returns
    -------
    LabelResult
    """
    import pandas as pd

    from ..io import RunDir
    from ._zeroshot_classes import dump_classes, read_label_inputs

    specs, ds, empty = read_label_inputs(
        data,
        classes=classes,
        classes_file=classes_file,
        text_column=text_column,
        id_column=id_column,
        out=out,
        overwrite=overwrite,
    )
    rows = np.flatnonzero(~empty)
    y = None
    if label_column:
        df = ds.frame
        if label_column not in df.columns:
            raise InputError(
                f"{ds.name}: no column {label_column!r} for --label-column; columns are "
                f"{list(df.columns)[:10]}."
            )
        y = df[label_column].to_numpy(dtype=object)[rows]
    model = ZeroShotLabeler(
        specs,
        featurizer=featurizer,
        refine=refine,
        balance=balance,
        self_train=self_train,
        temperature=temperature,
    )
    assert ds.text is not None
    model.fit(list(np.asarray(ds.text, dtype=object)[rows]), y)
    names = model.classes_
    post = np.full((len(ds), len(names)), np.nan, dtype=np.float32)
    post[rows] = model.posterior_
    lab = np.full(len(ds), None, dtype=object)
    lab[rows] = np.asarray(names, dtype=object)[model.labels_]
    conf = np.full(len(ds), np.nan, dtype=np.float32)
    conf[rows] = model.posterior_.max(axis=1)
    thr = None
    if multi:
        bad_sep = [c for c in names if label_sep in c]
        if bad_sep:
            raise InputError(
                f"class {bad_sep[0]!r} contains the tag separator {label_sep!r}; rename it or "
                "pass another --label-sep."
            )
        thr = multi_label_threshold(len(names)) if multi_threshold is None else multi_threshold
        tags = multi_label_tags(model.posterior_, thr)
        lab[rows] = join_tags(tags, names, label_sep)
    labels_df = pd.DataFrame({"item_id": ds.item_id, "label": lab, "confidence": conf})
    for k, c in enumerate(names):
        labels_df[f"p_{c}"] = post[:, k]
    fname = featurizer if isinstance(featurizer, str) else "custom"
    src = source_name or f"zeroshot:{fname}"
    votes_df = pd.DataFrame(
        {"item_id": ds.item_id[rows], "source": src, "label": lab[rows], "confidence": conf[rows]}
    )
    if multi:
        exploded = pd.Series(np.asarray(lab[rows], dtype=str)).str.split(label_sep).explode()
        counts: Any = exploded.value_counts()
    else:
        counts = pd.Series(lab[rows]).value_counts()
    summary = {
        "n_items": len(ds),
        "n_abstain_empty_text": int(empty.sum()),
        "n_classes": len(names),
        "classes": names,
        "featurizer": fname,
        "refine": refine,
        "balance": balance,
        "temperature": temperature,
        "n_iter": model.n_iter_,
        "converged": model.converged_,
        "refine_accepted": model.refine_accepted_,
        "self_train": self_train,
        "self_train_accepted": model.self_train_accepted_,
        "seen_classes": [names[i] for i in model.seen_classes_],
        "mean_confidence": float(conf[rows].mean()),
        "per_class": {c: int(counts.get(c, 0)) for c in names},
        "task": "multilabel" if multi else "classification",
    }
    if multi:
        summary["label_sep"] = label_sep
        summary["multi_threshold"] = float(thr) if thr is not None else None
        summary["mean_tags_per_item"] = float(
            np.mean([len(str(v).split(label_sep)) for v in lab[rows]]) if len(rows) else 0.0
        )
    result = LabelResult(
        labels=labels_df,
        votes=votes_df,
        classes=specs,
        summary=summary,
        texts=list(ds.text),
        known_labels=y,
    )
    if out is not None:
        from ..report import write_report

        with RunDir(out, kind="label", overwrite=overwrite, meta={"command": "label"}) as run:
            run.write_parquet("labels.parquet", labels_df)
            run.write_parquet("votes.parquet", votes_df)
            run.write_text("classes.yaml", dump_classes(specs))
            run.write_json("summary.json", summary)
            write_report(run, result._render_report())
        result.out = run.out
    return result
