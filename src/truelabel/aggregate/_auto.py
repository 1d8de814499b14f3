"""Choosing a label model (and its posterior temperature): by held-out vote likelihood
with collapse guards, or by agreement with gold."""

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
from ._base import BaseLabelModel, _combined_gold, _n_true
from ._best import BestSource
from ._calibrate import (
    MIN_GAIN,
    T_RANGE,
    _golden_max,
    heldout_split,
    paired_z,
    score_heldout,
    subsample_items,
    temper,
    uniform_by_key,
)
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
CANDIDATES = ("mv", "wawa", "onecoin", "ds", "ds_pooled", "mace", "glad", "features")

#: extra candidates when choosing by gold agreement (they need gold to be meaningful)
GOLD_CANDIDATES = ("best_source",)

#: the smallest number of gold items with votes for choosing by gold agreement
MIN_GOLD = 20


def make_label_model(method: str, *, random_state: Any = 0, **params: Any) -> BaseLabelModel:
    """A label model by name (``mv``, ``wawa``, ``ds``, ``ds_pooled``, ``onecoin``, ``mace``,
    ``glad``, ``features``, ``best_source``, ``mc``)."""
    if method not in METHODS:
        raise InputError(
            f"unknown method {method!r}; choose one of auto, " + ", ".join(sorted(METHODS)) + "."
        )
    return METHODS[method](random_state=random_state, **params)


#: EM iterations of the candidates fitted while choosing (the chosen model is refitted)
SELECTION_MAX_ITER = 50


def _candidate(c: str, rng: np.random.Generator, class_prior: Any) -> BaseLabelModel:
    """A candidate for the choice: EM models capped at ``SELECTION_MAX_ITER`` iterations."""
    model = make_label_model(c, random_state=rng.integers(2**31 - 1), class_prior=class_prior)
    if "max_iter" in model.get_params():
        model.set_params(max_iter=min(model.get_params()["max_iter"], SELECTION_MAX_ITER))
    return model


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
    """What ``method="auto"`` chose, why, and the temperature that calibrates its posterior.

    Attributes
    ----------
    method : str
        The chosen method name.
    criterion : str
        ``"heldout_vote_loglik"``, ``"gold_accuracy"``, ``"single_source"`` or ``"default"``.
    scores : dict
        Criterion score of every candidate (higher is better): mean log-likelihood per
        hidden vote, or accuracy on held-out gold.
    reason : str
        One sentence for the summary and report.
    temperature : float
        Posterior temperature ``T`` chosen on the same held-out votes (or gold):
        the reported posterior is ``softmax((ll + lp) / T)`` of the chosen model.
    candidates : dict
        Per candidate: ``score``, ``temperature``, ``collapse_ratio`` (smallest share of a
        class relative to majority vote's), ``excluded`` (why it could not be chosen, or
        None) and ``z_vs_mv`` (its held-out gain over majority vote in standard errors).
    n_votes_used : int
        Votes the choice was made on (a random subset of items above ``max_votes``).
    """

    method: str
    criterion: str
    scores: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    temperature: float = 1.0
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    n_votes_used: int = 0


#: a class that majority vote gives at least this share of the items is "in use" ...
MIN_CLASS_SHARE = 0.05
#: ... and a model that gives it less than this fraction of majority vote's share collapsed
COLLAPSE_RATIO = 0.2
#: a model replaces majority vote only if it predicts held-out votes better by this many SEs
Z_BEAT_MV = 2.0
#: the choice is made on at most this many votes (a random subset of items, all their votes)
MAX_SELECTION_VOTES = 20_000


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
    max_votes: int = MAX_SELECTION_VOTES,
    z: float = Z_BEAT_MV,
    collapse_ratio: float = COLLAPSE_RATIO,
) -> AutoChoice:
    """Pick a label model for ``votes`` and the temperature that calibrates its posterior.

    **Without gold** (the default case) the choice is by held-out vote likelihood
    (:mod:`truelabel.aggregate._calibrate`): ``n_folds`` times a random
    ``heldout_fraction`` of the votes is hidden (never every real vote of an item), every
    candidate is fitted on the rest and its tempered posterior predicts the hidden votes
    through one shared, pooled channel estimator; each candidate's temperature maximises
    that likelihood. Two rules guard against collapse, which vote likelihood alone does
    not see (unipolar labeling functions are predicted equally well by any posterior; a
    degenerate Dawid–Skene solution can explain the votes *better* than the truth does):

    1. a candidate that all but removes a class is excluded: some class that majority
       vote gives ``>= 5 %`` of the items gets less than ``collapse_ratio`` of that share;
    2. majority vote is the default: another candidate replaces it only if its held-out
       log-likelihood per vote beats majority vote's by more than ``z`` standard errors
       (paired over the hidden votes, clustered by source: a gain that a few sources
       carry counts for less than one spread over many).

    **With at least** ``MIN_GOLD`` **gold items** that have votes, each candidate is fitted
    ``n_folds`` times with one fold of gold hidden and scored by its accuracy on the hidden
    gold; ``best_source`` joins the candidates, and the temperature maximises the
    log-probability of the hidden gold labels.

    Parameters
    ----------
    votes : VoteArrays
    gold : ndarray of shape (n_items,), int, optional
        -1 where unknown; combined with gold-source votes.
    features : array of shape (n_items, n_features), optional
        Enables the ``features`` candidate.
    candidates : tuple of str, optional
        Default: mv, wawa, onecoin, ds, ds_pooled, mace, glad (+ features when given,
        + best_source with gold). One candidate: only its temperature is chosen.
    n_folds : int
        Rounds of hidden votes (or gold folds).
    heldout_fraction : float
        Share of the votes hidden in each round.
    random_state : int, Generator or None
    class_prior : array-like of shape (n_classes,), optional
        A fixed class prior given to every candidate (see :class:`DawidSkene`).
    max_votes : int
        Above this many votes the choice is made on a random subset of items (with all
        their votes), which keeps ``auto`` cheap on large tables.
    z : float
        How many standard errors a candidate must beat majority vote by.
    collapse_ratio : float
        Class-share ratio below which a candidate counts as collapsed.

    Returns
    -------
    AutoChoice
    """
    rng = check_random_state(random_state)
    user_cands = candidates is not None
    cands = candidates or tuple(c for c in CANDIDATES if c != "features" or features is not None)
    g = _combined_gold(votes, gold)
    plain = votes.without_gold()
    n_src = int((np.bincount(plain.source, minlength=votes.n_sources) > 0).sum())
    if n_src < 2 and not user_cands:
        return AutoChoice(
            "mv", "single_source", {}, "only one source voted, so every model reduces to its votes"
        )
    nvotes = np.bincount(plain.item, minlength=votes.n_items)
    gold_items = np.flatnonzero((g >= 0) & (nvotes > 0))
    # Identifiability guard: a full confusion matrix per source has K(K-1) free numbers;
    # with fewer real votes than that in total, full-confusion models only fit noise.
    k_true = _n_true(plain)
    n_real = int((plain.label < k_true).sum())
    n_params = n_src * k_true * (k_true - 1)
    dropped = ""
    if not user_cands and n_real < n_params:
        full = ("ds", "ds_pooled", "features")
        cands = tuple(c for c in cands if c not in full)
        dropped = (
            f"; full-confusion models skipped ({n_real} votes < {n_params} confusion "
            f"parameters of {n_src} sources x {k_true}x{k_true - 1})"
        )
    if len(gold_items) >= MIN_GOLD:
        if not user_cands:
            cands = cands + GOLD_CANDIDATES
        return _gold_choice(
            plain, g, gold_items, cands, n_folds, rng, class_prior, features, dropped
        )
    return _heldout_choice(
        plain,
        g,
        cands,
        n_folds,
        heldout_fraction,
        rng,
        class_prior,
        features,
        max_votes,
        z,
        collapse_ratio,
        dropped,
    )


def _gold_choice(
    plain: VoteArrays,
    g: np.ndarray,
    gold_items: np.ndarray,
    cands: tuple[str, ...],
    n_folds: int,
    rng: np.random.Generator,
    class_prior: Any,
    features: Any,
    dropped: str,
) -> AutoChoice:
    """Accuracy on held-out gold folds; the winner's temperature from the same folds."""
    perm = gold_items[np.argsort(uniform_by_key(plain.item_ids[gold_items], rng), kind="stable")]
    folds = np.array_split(perm, n_folds)
    gv = _replace(plain, is_gold_source=np.zeros(plain.n_sources, dtype=bool))
    scores: dict[str, float] = {}
    held: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for c in cands:
        correct, ll_sum = 0.0, 0.0
        held[c] = []
        for f in folds:
            gg = g.copy()
            gg[f] = -1
            m = _fit(
                make_label_model(c, random_state=rng.integers(2**31 - 1), class_prior=class_prior),
                gv,
                gg,
                features,
            )
            post = m.posterior_[f]
            correct += float((np.argmax(post, axis=1) == g[f]).sum())
            ll_sum += float(np.log(np.clip(post[np.arange(len(f)), g[f]], 1e-9, None)).sum())
            ll, lp = m._log_scores(gv)
            held[c].append((ll[f], np.broadcast_to(lp, ll.shape)[f], g[f]))
        scores[c] = correct / len(gold_items) + 1e-6 * ll_sum / len(gold_items)
    best = max(cands, key=lambda c: scores[c])

    def gold_loglik(log_t: float) -> float:
        t = float(np.exp(log_t))
        tot = 0.0
        for ll, lp, y in held[best]:
            q = temper(ll, lp, t)
            tot += float(np.log(np.clip(q[np.arange(len(y)), y], 1e-300, None)).sum())
        return tot

    log_t, _ = _golden_max(gold_loglik, np.log(T_RANGE[0]), np.log(T_RANGE[1]), 18)
    reason = (
        f"{best} agreed best with {len(gold_items)} gold items held out in {n_folds} folds "
        f"(accuracy {scores[best]:.3f}"
        + "; "
        + ", ".join(f"{c} {scores[c]:.3f}" for c in cands if c != best)
        + f"); posterior temperature {np.exp(log_t):.2f} from the same gold"
        + dropped
    )
    details = {c: {"score": scores[c], "temperature": None, "excluded": None} for c in cands}
    details[best]["temperature"] = float(np.exp(log_t))
    return AutoChoice(
        best, "gold_accuracy", scores, reason, float(np.exp(log_t)), details, plain.n_votes
    )


def _heldout_choice(
    plain: VoteArrays,
    g: np.ndarray,
    cands: tuple[str, ...],
    n_rounds: int,
    fraction: float,
    rng: np.random.Generator,
    class_prior: Any,
    features: Any,
    max_votes: int,
    z: float,
    collapse_ratio: float,
    dropped: str,
) -> AutoChoice:
    """Held-out vote likelihood with the collapse and beat-majority-vote rules."""
    sub, kept = subsample_items(plain, max_votes, rng)
    gsub = g[kept]
    fsub = None if features is None else features[kept]
    k = _n_true(sub)
    real = sub.label < k
    per_item = np.bincount(sub.item[real], minlength=sub.n_items)
    if int((per_item >= 2).sum()) < 10:
        fallback = "mv" if "mv" in cands else cands[0]
        return AutoChoice(
            fallback,
            "default",
            {},
            f"too few items with 2+ votes to compare models on held-out votes; used {fallback}"
            + dropped,
            n_votes_used=sub.n_votes,
        )
    rounds: dict[str, list[tuple[VoteArrays, np.ndarray, np.ndarray]]] = {c: [] for c in cands}
    ratios: dict[str, list[float]] = {c: [] for c in cands}
    hidden: list[np.ndarray] = []
    for _ in range(n_rounds):
        train, h = heldout_split(sub, fraction, rng)
        hidden.append(h)
        mv_labels = MajorityVote().fit(train).labels_
        for c in cands:
            m = _fit(_candidate(c, rng, class_prior), train, gsub, fsub)
            ll, lp = m._log_scores(train)
            rounds[c].append((train, ll, lp))
            ratios[c].append(_class_share_ratio(m.labels_, mv_labels, k))
    scored = {c: score_heldout(rounds[c], sub, hidden) for c in cands}
    groups = np.concatenate([sub.source[h] for h in hidden]).astype(np.int64)
    details: dict[str, dict[str, Any]] = {}
    for c in cands:
        ratio = float(np.mean(ratios[c]))
        excluded = None
        if c != "mv" and ratio < collapse_ratio:
            excluded = f"collapsed: gives a class {ratio:.2f} of the share majority vote gives it"
        details[c] = {
            "score": scored[c].mean,
            "temperature": scored[c].temperature if scored[c].tempering_helps(z) else 1.0,
            "collapse_ratio": ratio,
            "excluded": excluded,
            "z_vs_mv": paired_z(scored[c].per_vote, scored["mv"].per_vote, groups)
            if "mv" in scored and c != "mv"
            else None,
        }
    n_hidden = int(sum(len(h) for h in hidden))
    eligible = [c for c in cands if details[c]["excluded"] is None]
    if not eligible:
        eligible = ["mv"] if "mv" in cands else list(cands)
    if "mv" in scored:
        base = scored["mv"].per_vote
        for c in eligible:
            if c == "mv":
                continue
            zc = paired_z(scored[c].per_vote, base, groups)
            if zc <= z:
                details[c]["excluded"] = (
                    f"not better than majority vote on held-out votes ({zc:.1f} SE <= {z:g})"
                )
        eligible = [c for c in eligible if details[c]["excluded"] is None] or ["mv"]
    # The collapse check once more on the model fitted to all the (sub-sampled) votes: a
    # degenerate solution can be milder on 80 % of the votes than on all of them.
    ranking = sorted(eligible, key=lambda c: -scored[c].mean)
    mv_all = MajorityVote().fit(sub).labels_
    best = ranking[-1]
    for c in ranking:
        if c == "mv" or len(ranking) == 1:
            best = c
            break
        m = _fit(make_label_model(c, class_prior=class_prior), sub, gsub, fsub)
        ratio = _class_share_ratio(m.labels_, mv_all, k)
        details[c]["collapse_ratio_all"] = ratio
        if ratio >= collapse_ratio:
            best = c
            break
        details[c]["excluded"] = (
            f"collapsed when fitted on all the votes: gives a class {ratio:.2f} of the share "
            "majority vote gives it"
        )
        best = "mv" if "mv" in cands else c
    scores = {c: scored[c].mean + 0.0 for c in cands}
    t = float(details[best]["temperature"])
    others = ", ".join(
        f"{c} {round(scores[c], 4) + 0.0:.4f}"
        + (" (collapsed)" if "collapsed" in str(details[c]["excluded"]) else "")
        for c in cands
        if c != best
    )
    uninformative = all(abs(v) < MIN_GAIN for v in scores.values())
    reason = (
        (
            f"every model predicted each of the {n_hidden} hidden votes with "
            "probability 1 (every source only ever gives one answer, so its votes do not "
            f"tell the classes apart; {others})"
            if uninformative
            else f"{best} predicted held-out votes best (mean log-likelihood "
            f"{scores[best]:.4f} over {n_hidden} votes hidden in {n_rounds} rounds; {others})"
        )
        + (
            "; no other model beat majority vote by more than "
            f"{z:g} standard errors without collapsing"
            if best == "mv" and len(cands) > 1
            else ""
        )
        + (
            f"; posterior temperature {t:.2f}"
            if t != 1.0
            else "; posterior temperature 1 (held-out votes did not identify another)"
        )
        + dropped
    )
    return AutoChoice(best, "heldout_vote_loglik", scores, reason, t, details, sub.n_votes)


def _class_share_ratio(labels: np.ndarray, mv_labels: np.ndarray, k: int) -> float:
    """Smallest (model share / majority-vote share) over classes MV gives >= 5 % of items."""
    n = max(len(labels), 1)
    mv = np.bincount(mv_labels, minlength=k) / n
    own = np.bincount(labels, minlength=k) / n
    used = mv >= MIN_CLASS_SHARE
    if not used.any():
        return 1.0
    return float((own[used] / mv[used]).min())
