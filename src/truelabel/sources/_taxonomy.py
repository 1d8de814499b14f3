"""Taxonomy induction: propose a class list from unlabeled texts.

Cluster the embeddings (k-means; ``k="auto"`` picks the k with the best silhouette on a
sample), describe each cluster by its distinctive keywords (class-based TF-IDF, as in
BERTopic) and its most typical texts (nearest the centroid). With an LLM configured, ask
it to name and describe each cluster, then merge clusters the LLM gave the same name.
The result is a ``classes.yaml`` that ``truelabel label`` reads.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError
from .._types import IntArray, RandomState
from .._validation import check_random_state
from ._zeroshot_classes import ClassSpec, dump_classes

__all__ = ["Taxonomy", "choose_k", "ctfidf_keywords", "induce_taxonomy", "taxonomy"]

logger = logging.getLogger(__name__)

#: how a classes.yaml written by ``truelabel taxonomy`` starts
TAXONOMY_SIGNATURE = "# induced by: truelabel taxonomy"


@dataclass
class Taxonomy:
    """An induced class list.

    Attributes
    ----------
    classes : list of ClassSpec
        One per (merged) cluster: name, description, keywords, typical texts as examples.
    assignments : ndarray of shape (N,), int64
        Cluster (class) index of each text.
    sizes : list of int
        Items per class.
    k : int
        Clusters before merging.
    silhouette : dict
        ``{k: score}`` for every k tried when ``k="auto"``.
    named_by : str
        ``keywords`` or ``llm:<model>``.
    """

    classes: list[ClassSpec]
    assignments: IntArray
    sizes: list[int]
    k: int
    silhouette: dict[int, float] = field(default_factory=dict)
    named_by: str = "keywords"
    llm_stats: dict[str, Any] | None = None

    def to_yaml(self) -> str:
        return dump_classes(
            self.classes,
            extra={
                # first line = TAXONOMY_SIGNATURE: a later run may replace this file
                "induced by": f"truelabel taxonomy (k={self.k}, named by {self.named_by})",
                "sizes": ", ".join(
                    f"{c.name}={n}" for c, n in zip(self.classes, self.sizes, strict=True)
                ),
            },
        )


def choose_k(
    X: np.ndarray, k_range: Sequence[int], *, sample: int = 2000, random_state: RandomState = 0
) -> tuple[int, dict[int, float]]:
    """The k in ``k_range`` with the highest silhouette (cosine) of k-means on a sample."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = check_random_state(random_state)
    idx = rng.choice(X.shape[0], size=min(sample, X.shape[0]), replace=False)
    Xs = X[idx]
    scores: dict[int, float] = {}
    for k in k_range:
        if k < 2 or k >= Xs.shape[0]:
            continue
        lab = KMeans(n_clusters=k, n_init=2, random_state=int(rng.integers(2**31 - 1))).fit_predict(
            Xs
        )
        if len(np.unique(lab)) < 2:
            continue
        scores[int(k)] = float(silhouette_score(Xs, lab, metric="cosine"))
    if not scores:
        raise InputError(f"too few texts ({X.shape[0]}) to choose a number of clusters; give --k.")
    best = max(scores, key=lambda k: (scores[k], -k))
    return best, scores


def ctfidf_keywords(
    texts: Sequence[str], assign: IntArray, n_clusters: int, top: int = 8
) -> list[list[str]]:
    """Distinctive words per cluster by class-based TF-IDF.

    Each cluster's texts are joined into one document; term weight =
    ``tf(t, c) / |c| * log(1 + A / f(t))`` with ``A`` the mean words per cluster and ``f(t)``
    the term's frequency over all clusters.
    """
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    cv = CountVectorizer(
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
        min_df=2 if len(texts) > 50 else 1,
        ngram_range=(1, 1),
    )
    try:
        counts = cv.fit_transform(texts)
    except ValueError:  # empty vocabulary
        return [[] for _ in range(n_clusters)]
    onehot = sp.csr_matrix(
        (np.ones(len(assign)), (assign, np.arange(len(assign)))), shape=(n_clusters, len(assign))
    )
    tf = np.asarray((onehot @ counts).todense(), dtype=np.float64)
    words_per = tf.sum(axis=1, keepdims=True)
    A = words_per.mean()
    f = tf.sum(axis=0)
    w = tf / np.maximum(words_per, 1) * np.log1p(A / np.maximum(f, 1))
    vocab = np.asarray(cv.get_feature_names_out())
    order = np.argsort(-w, axis=1)[:, :top]
    return [[str(vocab[j]) for j in row if w[i, j] > 0] for i, row in enumerate(order)]


def _slug(words: Sequence[str], i: int) -> str:
    return "_".join(words[:3]) if words else f"cluster_{i}"


def _llm_names(
    llm: Any, keywords: list[list[str]], examples: list[list[str]]
) -> tuple[list[tuple[str, str] | None], dict[str, Any]]:
    """Ask the LLM for ``(name, description)`` per cluster through its cache and budget."""
    import jinja2

    from ._llm_cache import request_key
    from ._llm_client import ChatClient, UnsupportedParameter

    tpl = jinja2.Environment(autoescape=False).from_string(
        (Path(__file__).with_name("templates") / "taxonomy.j2").read_text(encoding="utf-8")
    )
    cache = llm._cache()
    client = ChatClient(
        llm.base_url,
        api_key=llm._api_key(),
        timeout=llm.timeout,
        max_retries=llm.max_retries,
        backoff=llm.backoff,
        transport=llm.transport,
    )
    out: list[tuple[str, str] | None] = []
    stats: dict[str, Any] = {"n_calls": 0, "n_cache_hits": 0, "n_failed": 0, "n_unparsed": 0}
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "category",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
                "required": ["name", "description"],
                "additionalProperties": False,
            },
        },
    }
    params: dict[str, Any] = {"temperature": 0.0, "max_tokens": 80}
    if llm.structured != "none":
        params["response_format"] = schema
    try:
        for kw, ex in zip(keywords, examples, strict=True):
            msgs = [
                {"role": "system", "content": "You name clusters of texts concisely."},
                {"role": "user", "content": tpl.render(keywords=kw, texts=ex).strip()},
            ]
            key = request_key(llm.model, msgs, params)
            resp = cache.get(key)
            if resp is not None:
                stats["n_cache_hits"] += 1
            elif llm.max_calls is not None and stats["n_calls"] >= llm.max_calls:
                out.append(None)
                continue
            else:
                stats["n_calls"] += 1
                try:
                    res = client.post({"model": llm.model, "messages": msgs, **params})
                except UnsupportedParameter:  # no JSON schema on this server: plain text
                    params.pop("response_format", None)
                    key = request_key(llm.model, msgs, params)
                    res = client.post({"model": llm.model, "messages": msgs, **params})
                resp = res.response
                if resp is None:
                    stats["n_failed"] += 1
                    out.append(None)
                    continue
                cache.put(key, llm.model, resp)
            out.append(_parse_name(resp["choices"][0]["message"].get("content") or ""))
            if out[-1] is None:
                stats["n_unparsed"] += 1
    except Exception as exc:  # the endpoint is down: keep keyword names, say so
        logger.warning("LLM naming stopped (%s); keeping keyword names for the rest", exc)
        stats["error"] = str(exc)
        out.extend([None] * (len(keywords) - len(out)))
    finally:
        client.close()
        cache.close()
    return out, stats


def _parse_name(content: str) -> tuple[str, str] | None:
    m = re.search(r"\{.*\}", content, flags=re.S)
    if m:
        try:
            obj = json.loads(m.group(0))
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and str(obj.get("name", "")).strip():
            name = " ".join(str(obj["name"]).split())[:60]
            return name, " ".join(str(obj.get("description", "")).split())[:300]
    return None


def induce_taxonomy(
    texts: Sequence[str],
    *,
    k: int | str = "auto",
    k_range: Sequence[int] = tuple(range(2, 21)),
    featurizer: str = "auto",
    X: Any = None,
    n_keywords: int = 8,
    n_examples: int = 3,
    llm: Any = None,
    merge_threshold: float = 0.95,
    random_state: RandomState = 0,
) -> Taxonomy:
    """Cluster texts into a proposed class list.

    Parameters
    ----------
    texts : sequence of str, length N
    k : int or "auto"
        Number of clusters; ``auto`` = best silhouette over ``k_range``.
    featurizer : {"auto", "minilm", "static", "tfidf"}
    X : ndarray of shape (N, D), optional
        Precomputed embeddings.
    n_keywords, n_examples : int
        Keywords and typical texts kept per class.
    llm : LLMLabeler, optional
        When given, the LLM names and describes each cluster; clusters it gives the
        same name are merged.
    merge_threshold : float
        Also merge clusters whose centroids have cosine similarity above this.
    random_state : int, Generator or None

    Returns
    -------
    Taxonomy
    """
    from sklearn.cluster import KMeans

    from ._zeroshot import _dense, _normalize

    texts = [str(t) for t in texts]
    if len(texts) < 4:
        raise InputError(f"taxonomy needs at least 4 texts; got {len(texts)}.")
    rng = check_random_state(random_state)
    if X is None:
        from ..featurize import featurize

        X = featurize(texts, method=featurizer)
    Xn = _normalize(_dense(X))
    sil: dict[int, float] = {}
    if k == "auto":
        k_use, sil = choose_k(Xn, k_range, random_state=rng)
    else:
        if not isinstance(k, int | np.integer) or not 2 <= int(k) <= len(texts) - 1:
            raise InputError(f"--k must be 'auto' or an int in [2, {len(texts) - 1}]; got {k!r}.")
        k_use = int(k)
    km = KMeans(n_clusters=k_use, n_init=3, random_state=int(rng.integers(2**31 - 1)))
    assign = km.fit_predict(Xn).astype(np.int64)
    C = _normalize(km.cluster_centers_.astype(np.float32))
    typ = np.einsum("ij,ij->i", Xn, C[assign])
    order = np.lexsort((-typ, assign))
    starts = np.searchsorted(assign[order], np.arange(k_use))
    ends = np.searchsorted(assign[order], np.arange(k_use), side="right")
    examples = [
        [texts[j][:300] for j in order[s : min(e, s + n_examples)]]
        for s, e in zip(starts, ends, strict=True)
    ]
    keywords = ctfidf_keywords(texts, assign, k_use, top=n_keywords)
    names: list[tuple[str, str] | None] = [None] * k_use
    named_by, llm_stats = "keywords", None
    if llm is not None:
        names, llm_stats = _llm_names(llm, keywords, examples)
        named_by = f"llm:{llm.model}"

    # merge: same LLM name, or near-identical centroids
    parent = np.arange(k_use)

    def find(i: int) -> int:
        while parent[i] != i:
            i = int(parent[i])
        return i

    key_of = [n[0].casefold() if n else None for n in names]
    S = C @ C.T
    for i in range(k_use):  # loop over clusters (few), not items
        for j in range(i + 1, k_use):
            if (key_of[i] is not None and key_of[i] == key_of[j]) or S[i, j] > merge_threshold:
                parent[find(j)] = find(i)
    roots = np.array([find(i) for i in range(k_use)])
    uniq, new_id = np.unique(roots, return_inverse=True)
    assign_m = new_id[assign].astype(np.int64)
    sizes = np.bincount(assign_m, minlength=len(uniq))
    if len(uniq) < k_use:
        keywords_m = ctfidf_keywords(texts, assign_m, len(uniq), top=n_keywords)
    else:
        keywords_m = keywords
    classes: list[ClassSpec] = []
    used: set[str] = set()
    for c, root in enumerate(uniq):
        members = np.flatnonzero(roots == root)
        big = members[np.argmax([np.sum(assign == m) for m in members])]
        nm = names[big]
        name = nm[0] if nm else _slug(keywords_m[c], c)
        base, n = name, 2
        while name.casefold() in used:
            name, n = f"{base} {n}", n + 1
        used.add(name.casefold())
        ex = [e for m in members for e in examples[m]][:n_examples]
        classes.append(
            ClassSpec(
                name=name,
                description=nm[1] if nm else f"Texts about {', '.join(keywords_m[c][:5])}.",
                keywords=tuple(keywords_m[c]),
                examples=tuple(ex),
            )
        )
    order_cls = np.argsort(-sizes, kind="stable")
    remap = np.empty_like(order_cls)
    remap[order_cls] = np.arange(len(order_cls))
    return Taxonomy(
        classes=[classes[i] for i in order_cls],
        assignments=remap[assign_m].astype(np.int64),
        sizes=[int(sizes[i]) for i in order_cls],
        k=k_use,
        silhouette=sil,
        named_by=named_by,
        llm_stats=llm_stats,
    )


def taxonomy(
    data: Any,
    *,
    text_column: str,
    out: str | Path,
    k: int | str = "auto",
    featurizer: str = "auto",
    id_column: str | None = None,
    llm: Any = None,
    max_items: int | None = 20000,
    random_state: RandomState = 0,
    overwrite: bool = False,
) -> Taxonomy:
    """Read a table, induce a taxonomy and write it as ``classes.yaml`` (``truelabel taxonomy``).

    ``out`` is the YAML file to write (atomically): a new file or one this command wrote
    before (any other file needs ``overwrite=True``; see :func:`truelabel.io.check_out_file`).
    With ``max_items``, a random sample of that size is clustered.
    """
    from ..io import check_out_file, load_dataset, write_atomic

    outp = check_out_file(
        out,
        kind="taxonomy",
        suffixes=(".yaml", ".yml"),
        inputs=[data],
        overwrite=overwrite,
        signature=TAXONOMY_SIGNATURE,
    )
    ds = load_dataset(data, text_column=text_column, id_column=id_column, require_labels=False)
    assert ds.text is not None
    texts = list(ds.text)
    if max_items is not None and len(texts) > max_items:
        rng = check_random_state(random_state)
        idx = np.sort(rng.choice(len(texts), size=max_items, replace=False))
        texts = [texts[i] for i in idx]
    tax = induce_taxonomy(texts, k=k, featurizer=featurizer, llm=llm, random_state=random_state)
    write_atomic(outp, tax.to_yaml())
    return tax
