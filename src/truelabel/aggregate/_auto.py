"""Choosing a label model: by agreement with gold, or by held-out vote likelihood."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import ConvergenceWarning, InputError
from .._types import IntArray
from .._validation import check_random_state
from ..sources._votes import VoteArrays, _replace
from ._base import BaseLabelModel, _combined_gold, _counts, _n_true, _vote_matrix
from ._best import BestSource
from ._dawid_skene import DawidSkene, OneCoinDawidSkene, PooledDawidSkene
from ._features import FeatureDawidSkene
from ._glad import GLAD
from ._mace import MACE
from ._majority import MajorityVote, WeightedVote
from ._matrix_completion import MatrixCompletionLabelModel

__all__ = ["METHODS", "AutoChoice", "make_label_model", "select_label_model"]

logger = logging.getLogger(__name__)

#: method name -> label model class (aliases included)
METHODS: dict[str, type[BaseLabelModel]] = {
    "mv": MajorityVote,
    "majority": MajorityVote,
    "wawa": WeightedVote,
    "weighted": WeightedVote,
    "ds": DawidSkene,
    "dawid_skene": DawidSkene,
    "ds_pooled": PooledDawidSkene,
    "onecoin": OneCoinDawidSkene,
    "mace": MACE,
    "glad": GLAD,
    "features": FeatureDawidSkene,
    "best_source": BestSource,
    "mc": MatrixCompletionLabelModel,
}

#: order of preference when scores tie (simpler first)
CANDIDATES = ("mv", "wawa", "onecoin", "ds", "ds_pooled", "mace", "features")

#: extra candidates when choosing by gold agreement (they need gold to be meaningful)
GOLD_CANDIDATES = ("best_source",)

#: the smallest number of gold items with votes for choosing by gold agreement
MIN_GOLD = 20


def make_label_model(method: str, *, random_state: Any = 0, **params: Any) -> BaseLabelModel:
    """A label model by name (``mv``, ``wawa``, ``ds``, ``ds_pooled``, ``onecoin``, ``mace``,
    ``features``, ``best_source``, ``mc``)."""
    if method not in METHODS:
        raise InputError(
            f"unknown method {method!r}; choose one of auto, " + ", ".join(sorted(METHODS)) + "."
        )
    return METHODS[method](random_state=random_state, **params)


def _fit(
    model: BaseLabelModel, votes: VoteArrays, gold: IntArray | None, features: Any
) -> BaseLabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if isinstance(model, FeatureDawidSkene):
            return model.fit(votes, gold, features=features)
        return model.fit(votes, gold)


@dataclass
class AutoChoice:
    """What ``method="auto"`` chose and why.

    Attributes
    ----------
    method : str
        The chosen method name.
    criterion : str
        ``"gold_accuracy"`` or ``"heldout_vote_loglik"`` (or ``"single_source"``).
    scores : dict
        Score of every candidate (higher is better).
    reason : str
        One sentence for the summary and report.
    """

    method: str
    criterion: str
    scores: dict[str, float] = field(default_factory=dict)
    reason: str = ""


def select_label_model(
    votes: VoteArrays,
    *,
    gold: IntArray | None = None,
    features: Any = None,
    candidates: tuple[str, ...] | None = None,
    n_folds: int = 3,
    heldout_fraction: float = 0.2,
    random_state: Any = 0,
    class_prior: Any = None,
) -> AutoChoice:
    """Pick a label model for ``votes``.

    With at least ``MIN_GOLD`` gold items that have votes, each candidate is fitted
    ``n_folds`` times with one fold of gold hidden and scored by its accuracy on
    the hidden gold (ties: mean log-probability of the gold class). The candidates
    then include ``best_source`` (follow the source most accurate on the visible
    gold), so "aggregate" is only chosen when it beats picking the best source. Otherwise a
    random ``heldout_fraction`` of the votes of items with 3+ votes is hidden
    ``n_folds`` times and candidates are scored by the mean log-probability they give
    the hidden votes, ``log sum_k P(k | other votes) P(l | k, source)``.

    Parameters
    ----------
    votes : VoteArrays
    gold : ndarray of shape (n_items,), int, optional
        -1 where unknown; combined with gold-source votes.
    features : array of shape (n_items, n_features), optional
        Enables the ``features`` candidate.
    candidates : tuple of str, optional
        Default: mv, wawa, onecoin, ds, ds_pooled, mace (+ features when given,
        + best_source when choosing by gold).
    n_folds : int
    heldout_fraction : float
    random_state : int, Generator or None
    class_prior : array-like of shape (n_classes,), optional
        A fixed class prior given to every candidate (see :class:`DawidSkene`).

    Returns
    -------
    AutoChoice
    """
    rng = check_random_state(random_state)
    cands = candidates or tuple(c for c in CANDIDATES if c != "features" or features is not None)
    g = _combined_gold(votes, gold)
    plain = votes.without_gold()
    n_src = int((np.bincount(plain.source, minlength=votes.n_sources) > 0).sum())
    if n_src < 2:
        return AutoChoice(
            "mv", "single_source", {}, "only one source voted, so every model reduces to its votes"
        )
    nvotes = np.bincount(plain.item, minlength=votes.n_items)
    gold_items = np.flatnonzero((g >= 0) & (nvotes > 0))
    scores: dict[str, float] = {}
    # Identifiability guard: a full confusion matrix per source has K(K-1) free numbers;
    # with fewer real votes than that in total, full-confusion models only fit noise.
    k_true = _n_true(plain)
    n_real = int((plain.label < k_true).sum())
    n_params = n_src * k_true * (k_true - 1)
    dropped = ""
    if candidates is None and n_real < n_params:
        full = ("ds", "ds_pooled", "features")
        cands = tuple(c for c in cands if c not in full)
        dropped = (
            f"; full-confusion models skipped ({n_real} votes < {n_params} confusion "
            f"parameters of {n_src} sources x {k_true}x{k_true - 1})"
        )
    if len(gold_items) >= MIN_GOLD:
        if candidates is None:
            cands = cands + GOLD_CANDIDATES
        perm = rng.permutation(gold_items)
        folds = np.array_split(perm, n_folds)
        for c in cands:
            correct, ll = 0.0, 0.0
            for f in folds:
                gg = g.copy()
                gg[f] = -1
                gv = _replace(plain, is_gold_source=np.zeros(votes.n_sources, dtype=bool))
                m = _fit(
                    make_label_model(
                        c, random_state=rng.integers(2**31 - 1), class_prior=class_prior
                    ),
                    gv,
                    gg,
                    features,
                )
                post = m.posterior_[f]
                correct += float((np.argmax(post, axis=1) == g[f]).sum())
                ll += float(np.log(np.clip(post[np.arange(len(f)), g[f]], 1e-9, None)).sum())
            scores[c] = correct / len(gold_items) + 1e-6 * ll / len(gold_items)
        best = max(cands, key=lambda c: scores[c])
        reason = (
            f"{best} agreed best with {len(gold_items)} gold items held out in {n_folds} folds "
            f"(accuracy {scores[best]:.3f}"
            + "; "
            + ", ".join(f"{c} {scores[c]:.3f}" for c in cands if c != best)
            + ")"
            + dropped
        )
        return AutoChoice(best, "gold_accuracy", scores, reason)

    # Score only real answers: when abstaining is modelled as an answer (labeling
    # functions), abstentions dominate the votes but say little about the labels.
    real = plain.label < _n_true(plain)
    real_per_item = np.bincount(plain.item[real], minlength=votes.n_items)
    eligible = np.flatnonzero(real & (real_per_item[plain.item] >= 3))
    if len(eligible) < 10:
        fallback = "ds" if "ds" in cands else "mv"
        return AutoChoice(
            fallback,
            "default",
            {},
            f"too few items with 3+ votes to compare models on held-out votes; used {fallback}"
            + dropped,
        )
    totals = dict.fromkeys(cands, 0.0)
    count = 0
    for _ in range(n_folds):
        take = rng.random(len(eligible)) < heldout_fraction
        # never hide all votes of one item
        held = eligible[take]
        _, first = np.unique(plain.item[held], return_index=True)
        mask = np.ones(plain.n_votes, dtype=bool)
        mask[held] = False
        kept_items = np.bincount(plain.item[mask & real], minlength=votes.n_items)
        rescue = held[kept_items[plain.item[held]] == 0]
        mask[rescue] = True
        held = np.flatnonzero(~mask)
        if len(held) == 0:
            continue
        train = _replace(
            plain,
            item=plain.item[mask],
            source=plain.source[mask],
            label=plain.label[mask],
            weight=None if plain.weight is None else plain.weight[mask],
        )
        count += len(held)
        for c in cands:
            m = _fit(
                make_label_model(c, random_state=rng.integers(2**31 - 1), class_prior=class_prior),
                train,
                g,
                features,
            )
            conf = _smoothed_confusion(m, train)
            p = np.einsum(
                "nk,nk->n",
                m.posterior_[plain.item[held]].astype(np.float64),
                conf[plain.source[held], :, plain.label[held]],
            )
            totals[c] += float(np.log(np.clip(p, 1e-12, None)).sum())
    if count == 0:
        fallback = "ds" if "ds" in cands else "mv"
        return AutoChoice(fallback, "default", {}, f"no votes could be held out; used {fallback}")
    scores = {c: totals[c] / count for c in cands}
    best = max(cands, key=lambda c: scores[c])
    reason = (
        f"{best} predicted held-out votes best (mean log-likelihood {scores[best]:.4f} over "
        f"{count} votes hidden in {n_folds} rounds; "
        + ", ".join(f"{c} {scores[c]:.4f}" for c in cands if c != best)
        + ")"
        + dropped
    )
    return AutoChoice(best, "heldout_vote_loglik", scores, reason)


def _smoothed_confusion(model: BaseLabelModel, votes: VoteArrays) -> np.ndarray:
    """The model's confusion, or for vote-counting models one M-step from its posterior."""
    if isinstance(model, MajorityVote | WeightedVote):
        k = votes.n_classes
        c = _counts(_vote_matrix(votes), model.posterior_.astype(np.float64), votes.n_sources, k)
        c += 0.1
        return c / c.sum(axis=2, keepdims=True)
    return np.asarray(model.confusion_, dtype=np.float64)
