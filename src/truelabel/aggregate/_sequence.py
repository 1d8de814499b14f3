"""Dawid–Skene over token tags with a Markov chain on the true tags (HMM-crowd style).

Each token is an item; every source (crowd worker) that saw a sentence votes a tag for
each of its tokens. Token-level Dawid–Skene treats the tokens as independent. This model
adds what a span annotation is: the true tags of a sentence follow a first-order Markov
chain (start, transition and end probabilities), so ``I-`` follows ``B-`` and a span's
tokens share evidence. It is the hidden Markov model of Nguyen et al. (ACL 2017,
"HMM-crowd"): hidden states = true tags, observations = the sources' tags through their
confusion matrices, optionally plus the words themselves (naive-Bayes word emissions).

EM reuses the Dawid–Skene parts: the sparse vote matrix and its log-likelihood
(``_vote_matrix``, ``_log_lik``), the expected confusion counts (``_counts``) and
:class:`DawidSkene`'s M-step; the E-step is forward-backward over each sentence
(:func:`truelabel._sequence.forward_backward`) instead of an independent posterior.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._errors import ConvergenceWarning, InputError, NotFittedError
from .._sequence import forward_backward, viterbi
from .._types import IntArray
from .._validation import Interval, check_params
from ..sources._votes import VoteArrays, check_votes
from ._base import _counts, _log_lik, _vote_matrix
from ._dawid_skene import DawidSkene

__all__ = ["SequenceDawidSkene"]

logger = logging.getLogger(__name__)


class SequenceDawidSkene(BaseEstimator):  # type: ignore[misc]
    """Token-tag Dawid–Skene with Markov-chain true tags (an HMM over each sentence).

    Parameters
    ----------
    max_iter : int, default 50
    tol : float, default 1e-6
        Relative change of the log-likelihood that counts as converged.
    smoothing : float, default 0.1
        Pseudo-count per confusion cell (as :class:`DawidSkene`).
    transition_smoothing : float, default 1.0
        Pseudo-count per transition / start / end cell.
    word_weight : float, default 0.0
        Weight of the naive-Bayes word emissions ``log P(word | tag)`` (0 = off; 1 = the
        plain HMM of HMM-crowd).
    word_smoothing : float, default 0.1
        Pseudo-count per (word, tag) cell of the word emissions.
    random_state : int or None
        Unused (EM starts from token-level Dawid–Skene); kept for the common interface.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    posterior_ : ndarray of shape (T, K), float32
        ``P(true tag_t = k | all votes)`` per token.
    labels_ : ndarray of shape (T,), int64
        The most likely tag sequence of each sentence (Viterbi).
    confusion_ : ndarray of shape (n_sources, K, K), float32
        ``P(source says l | true k)`` indexed ``[s, k, l]``.
    transitions_ : ndarray of shape (K, K), float32
        ``P(tag j | previous tag i)``.
    start_, end_ : ndarray of shape (K,), float32
    n_iter_, converged_, log_likelihood_
    """

    _constraints: dict[str, list[Any]] = {
        "max_iter": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None)],
        "smoothing": [Interval(float, 0, None)],
        "transition_smoothing": [Interval(float, 0, None)],
        "word_weight": [Interval(float, 0, None)],
        "word_smoothing": [Interval(float, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        max_iter: int = 50,
        tol: float = 1e-6,
        smoothing: float = 0.1,
        transition_smoothing: float = 1.0,
        word_weight: float = 0.0,
        word_smoothing: float = 0.1,
        random_state: int | None = 0,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.transition_smoothing = transition_smoothing
        self.word_weight = word_weight
        self.word_smoothing = word_smoothing
        self.random_state = random_state

    def fit(
        self, votes: VoteArrays, offsets: IntArray, words: IntArray | None = None
    ) -> SequenceDawidSkene:
        """Fit by EM.

        Parameters
        ----------
        votes : VoteArrays
            Items are tokens (posterior rows = tokens in ``offsets`` order), classes are
            tags.
        offsets : ndarray of shape (S + 1,), int
            Sentence boundaries over the items.
        words : ndarray of shape (T,), int, optional
            Word code of each token (for ``word_weight > 0``).

        Returns
        -------
        self
        """
        check_params(self)
        votes = check_votes(votes)
        offsets = np.asarray(offsets, dtype=np.int64)
        if offsets[0] != 0 or offsets[-1] != votes.n_items:
            raise InputError(
                f"sentence offsets end at {int(offsets[-1])} but the votes have "
                f"{votes.n_items} token items."
            )
        if self.word_weight > 0 and (words is None or len(words) != votes.n_items):
            raise InputError("word_weight > 0 needs the word code of every token (words=).")
        k = votes.n_classes
        s = votes.n_sources
        A = _vote_matrix(votes)
        AT = A.T
        ds = DawidSkene(smoothing=self.smoothing, max_iter=self.max_iter)
        # start from token-level Dawid–Skene (independent tokens)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            post = ds.fit(votes).posterior_.astype(np.float64)
        n_words = int(words.max()) + 1 if words is not None and len(words) else 0
        prev = -np.inf
        self.converged_ = False
        history: list[float] = []
        fb = None
        for it in range(1, self.max_iter + 1):
            # M-step
            log_conf = ds._m_step(_counts(A, post, s, k, AT))
            if fb is None:
                t_counts, s_counts, e_counts = _chain_counts(post, offsets)
            else:
                t_counts, s_counts, e_counts = fb.transition_counts, fb.start_counts, fb.end_counts
            a = float(self.transition_smoothing)
            log_trans = np.log((t_counts + a) / (t_counts + a).sum(axis=1, keepdims=True))
            log_start = np.log((s_counts + a) / (s_counts + a).sum())
            log_end = np.log((e_counts + a) / (e_counts + a).sum())
            em = _log_lik(A, log_conf)
            if self.word_weight > 0 and words is not None:
                wc = np.zeros((n_words, k))
                np.add.at(wc, words, post)
                wc += self.word_smoothing
                log_w = np.log(wc / wc.sum(axis=0, keepdims=True))
                em = em + float(self.word_weight) * log_w[words]
            # E-step
            fb = forward_backward(em, offsets, log_trans, log_start, log_end, pairwise=True)
            post = fb.marginals.astype(np.float64)
            ll = fb.log_z
            history.append(ll)
            self.n_iter_ = it
            if abs(ll - prev) <= self.tol * max(1.0, abs(ll)):
                self.converged_ = True
                break
            prev = ll
        if not self.converged_:
            warnings.warn(
                f"SequenceDawidSkene stopped after max_iter={self.max_iter} iterations with a "
                f"log-likelihood change above tol={self.tol:g}. Raise max_iter or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.classes_ = np.asarray(votes.classes)
        self.posterior_ = post.astype(np.float32)
        self.confusion_ = np.exp(log_conf).astype(np.float32)
        self.transitions_ = np.exp(log_trans).astype(np.float32)
        self.start_ = np.exp(log_start).astype(np.float32)
        self.end_ = np.exp(log_end).astype(np.float32)
        self.labels_ = viterbi(em, offsets, log_trans, log_start, log_end)
        self.log_likelihood_ = history[-1]
        self.log_likelihood_history_ = np.asarray(history)
        logger.info("SequenceDawidSkene: %d iterations, log-likelihood %.4f", it, history[-1])
        return self

    def predict_proba(self) -> np.ndarray:
        """The fitted per-token posterior, shape (T, K), float32."""
        if not hasattr(self, "posterior_"):
            raise NotFittedError("This SequenceDawidSkene is not fitted yet; call fit first.")
        return np.asarray(self.posterior_)


def _chain_counts(post: np.ndarray, offsets: IntArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transition, start and end counts from independent per-token posteriors."""
    n = post.shape[0]
    first = offsets[:-1][np.diff(offsets) > 0]
    last = offsets[1:][np.diff(offsets) > 0] - 1
    cont = np.ones(max(n - 1, 0), dtype=bool)
    cont[(offsets[1:-1] - 1)[(offsets[1:-1] > 0) & (offsets[1:-1] < n)]] = False
    t = post[:-1][cont].T @ post[1:][cont]
    return t, post[first].sum(axis=0), post[last].sum(axis=0)
