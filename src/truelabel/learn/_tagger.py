"""A linear-chain CRF token tagger: hashed sparse features + static embeddings.

Training runs in PyTorch (Adam on the CRF's negative log-likelihood, mini-batches of
length-sorted sentences); inference is NumPy: emissions, then forward-backward for the
per-token marginals ``P(tag_t = k | sentence)`` and Viterbi for the best tag sequence.

The emission of a token is ``W_sparse[ids].sum() + MLP(dense)``: the sum of the weights of
its hashed indicator features (word, lower-cased word, context words, shape, affixes,
bigrams; :func:`truelabel.featurize.token_features`) plus a one-hidden-layer network on
its static embedding and its neighbours'. Tag-to-tag transitions, start and end scores
make it a CRF, so the marginals respect the IOB grammar the data shows (``I-X`` after
``B-X``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._errors import InputError, NotFittedError
from .._sequence import buckets, forward_backward, padded, viterbi
from .._types import Float32Array, IntArray
from .._validation import Interval, check_params, check_random_state

__all__ = ["CRFTagger"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- the estimator


class CRFTagger(BaseEstimator):  # type: ignore[misc]
    """Linear-chain CRF over hashed token features and static embeddings.

    Parameters
    ----------
    epochs : int, default 3
        Passes over the training sentences.
    lr : float, default 0.02
        Adam learning rate.
    hidden : int, default 64
        Width of the hidden layer on the dense features (0 = linear).
    l2 : float, default 1e-6
        L2 penalty on the weights, per token (added to the mean NLL).
    batch_tokens : int, default 2048
        Tokens (padded) per mini-batch.
    hash_bits : int, default 18
        Hashed features fall in ``2**hash_bits`` buckets.
    embeddings : bool, default True
        Use the static token embeddings (False: hashed features and shape flags only).
    random_state : int, Generator or None, default 0
        Seeds initialisation and batch order.

    Attributes
    ----------
    tag_names_ : list of str
    n_tags_ : int
    transitions_ : ndarray of shape (K, K), float32
    start_, end_ : ndarray of shape (K,), float32
    loss_curve_ : list of float
    """

    _constraints: dict[str, list[Any]] = {
        "epochs": [Interval(int, 1, None)],
        "lr": [Interval(float, 0, None, closed="neither")],
        "hidden": [Interval(int, 0, None)],
        "l2": [Interval(float, 0, None)],
        "batch_tokens": [Interval(int, 16, None)],
        "hash_bits": [Interval(int, 8, 24)],
        "embeddings": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        epochs: int = 3,
        lr: float = 0.02,
        hidden: int = 64,
        l2: float = 1e-6,
        batch_tokens: int = 2048,
        hash_bits: int = 18,
        embeddings: bool = True,
        random_state: Any = 0,
    ) -> None:
        self.epochs = epochs
        self.lr = lr
        self.hidden = hidden
        self.l2 = l2
        self.batch_tokens = batch_tokens
        self.hash_bits = hash_bits
        self.embeddings = embeddings
        self.random_state = random_state

    # ------------------------------------------------------------------ features
    def features(self, tokens: np.ndarray, offsets: IntArray) -> Any:
        """Token features as this tagger uses them (see :func:`token_features`)."""
        from ..featurize._tokens import token_features

        return token_features(tokens, offsets, hash_bits=self.hash_bits, embeddings=self.embeddings)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        tokens: np.ndarray,
        offsets: IntArray,
        tags: IntArray,
        tag_names: list[str],
        *,
        features: Any = None,
    ) -> CRFTagger:
        """Learn from tagged sentences.

        Parameters
        ----------
        tokens : ndarray of shape (T,), object
        offsets : ndarray of shape (S + 1,), int
            Sentence boundaries.
        tags : ndarray of shape (T,), int
            Tag codes into ``tag_names``.
        tag_names : list of str
        features : TokenFeatures, optional
            Precomputed :meth:`features` of exactly these tokens (cross-fitting computes
            them once for all folds).

        Returns
        -------
        self
        """
        check_params(self)
        tags = np.asarray(tags, dtype=np.int64)
        if tags.shape[0] != len(tokens) or offsets[-1] != len(tokens):
            raise InputError(
                f"{len(tokens)} tokens, {tags.shape[0]} tags and sentence offsets ending at "
                f"{int(offsets[-1])} do not match."
            )
        feats = features if features is not None else self.features(tokens, offsets)
        self.tag_names_ = list(tag_names)
        self.n_tags_ = len(tag_names)
        self._train(feats.dense, feats.ids, feats.n_buckets, offsets, tags)
        return self

    def _train(
        self, dense: np.ndarray, ids: np.ndarray, n_buckets: int, offsets: IntArray, tags: IntArray
    ) -> None:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small matrices: one thread is faster and deterministic
        try:
            self._train_torch(dense, ids, n_buckets, offsets, tags)
        finally:
            torch.set_num_threads(threads)

    def _train_torch(
        self, dense: np.ndarray, ids: np.ndarray, n_buckets: int, offsets: IntArray, tags: IntArray
    ) -> None:
        import torch

        rng = check_random_state(self.random_state)
        g = torch.Generator().manual_seed(int(rng.integers(0, 2**31 - 1)))
        K, D, H = self.n_tags_, dense.shape[1], int(self.hidden)

        def init(shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
            bound = 1.0 / math.sqrt(max(fan_in, 1))
            return ((torch.rand(shape, generator=g) * 2 - 1) * bound).requires_grad_(True)

        W_sp = torch.zeros((n_buckets, K), requires_grad=True)
        if H > 0:
            dense_params = [init((D, H), D), init((H,), D), init((H, K), H), init((K,), H)]
        else:
            dense_params = [
                torch.zeros((D, K), requires_grad=True),
                torch.zeros(K, requires_grad=True),
            ]
        trans = torch.zeros((K, K), requires_grad=True)
        t_start = torch.zeros(K, requires_grad=True)
        t_end = torch.zeros(K, requires_grad=True)
        # the L2 penalty as Adam's (coupled) weight decay on the same two tensors: the
        # gradient 2 * l2 * p of the penalty, without a pass over the 2**hash_bits table in
        # the loss and its backward; fused Adam updates each tensor in one pass
        decay = [W_sp, dense_params[0]]
        rest = [*dense_params[1:], trans, t_start, t_end]
        opt = torch.optim.Adam(
            [{"params": decay, "weight_decay": 2 * float(self.l2)}, {"params": rest}],
            lr=float(self.lr),
            fused=True,
        )
        X = torch.from_numpy(np.ascontiguousarray(dense, dtype=np.float32))
        ids_t = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64))
        Y = torch.from_numpy(tags)
        groups = buckets(offsets, max_tokens=int(self.batch_tokens))
        lens_all = np.diff(offsets)
        curve: list[float] = []
        n_tok = max(int(offsets[-1]), 1)
        for epoch in range(int(self.epochs)):
            order = torch.randperm(len(groups), generator=g).numpy()
            total = 0.0
            for gi in order:
                rows = groups[gi]
                rows = rows[lens_all[rows] > 0]
                if not len(rows):
                    continue
                grid, mask, lens = padded(offsets, rows)
                flat = grid[mask]
                xt = torch.from_numpy(flat)
                em_flat = torch.nn.functional.embedding_bag(
                    ids_t[xt], W_sp, mode="sum"
                ) + _dense_forward(X[xt], dense_params)
                b, L = grid.shape
                em = torch.zeros((b, L, K))
                mt = torch.from_numpy(mask)
                em = em.masked_scatter(mt[:, :, None].expand(b, L, K), em_flat)
                y = torch.zeros((b, L), dtype=torch.int64)
                y[mt] = Y[xt]
                nll = _crf_nll(em, y, mt, torch.from_numpy(lens), trans, t_start, t_end)
                loss = nll / len(flat)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(nll.detach())
            curve.append(total / n_tok)
            logger.debug("CRFTagger epoch %d nll/token %.4f", epoch + 1, curve[-1])
        self.loss_curve_ = curve
        self.sparse_weights_ = W_sp.detach().numpy().astype(np.float32)
        self.dense_weights_ = [p.detach().numpy().astype(np.float32) for p in dense_params]
        self.transitions_ = trans.detach().numpy().astype(np.float32)
        self.start_ = t_start.detach().numpy().astype(np.float32)
        self.end_ = t_end.detach().numpy().astype(np.float32)

    # ------------------------------------------------------------------ predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "transitions_"):
            raise NotFittedError("This CRFTagger is not fitted yet; call fit(...) first.")

    def emissions(self, features: Any) -> np.ndarray:
        """Emission scores (T, K), float64, of precomputed features."""
        self._check_fitted()
        out = self.sparse_weights_[features.ids].sum(axis=1, dtype=np.float64)
        w = self.dense_weights_
        h = features.dense.astype(np.float32) @ w[0] + w[1]
        if len(w) == 4:
            h = np.maximum(h, 0) @ w[2] + w[3]
        return out + h

    def predict_marginals(
        self, tokens: np.ndarray, offsets: IntArray, *, features: Any = None
    ) -> Float32Array:
        """``P(tag_t = k | sentence)`` of every token, shape (T, K), float32."""
        feats = features if features is not None else self.features(tokens, offsets)
        em = self.emissions(feats)
        return forward_backward(em, offsets, self.transitions_, self.start_, self.end_).marginals

    def predict(self, tokens: np.ndarray, offsets: IntArray, *, features: Any = None) -> IntArray:
        """The Viterbi tag codes of every token, shape (T,), int64."""
        feats = features if features is not None else self.features(tokens, offsets)
        return viterbi(self.emissions(feats), offsets, self.transitions_, self.start_, self.end_)


def _dense_forward(x: Any, params: list[Any]) -> Any:
    import torch

    h = x @ params[0] + params[1]
    if len(params) == 4:
        h = torch.relu(h) @ params[2] + params[3]
    return h


def _crf_nll(em: Any, y: Any, mask: Any, lens: Any, trans: Any, start: Any, end: Any) -> Any:
    """Summed negative log-likelihood of the gold tag sequences, (b, L, K) emissions."""
    import torch

    b, L, K = em.shape
    ar = torch.arange(b)
    # gold path score
    gold = start[y[:, 0]] + em[ar, 0, y[:, 0]]
    if L > 1:
        step = trans[y[:, :-1], y[:, 1:]] + em[:, 1:].gather(2, y[:, 1:, None]).squeeze(2)
        gold = gold + (step * mask[:, 1:]).sum(dim=1)
    gold = gold + end[y[ar, lens - 1]]
    # partition function
    alpha = start[None] + em[:, 0]
    for t in range(1, L):
        nxt = torch.logsumexp(alpha[:, :, None] + trans[None], dim=1) + em[:, t]
        alpha = torch.where(mask[:, t : t + 1], nxt, alpha)
    log_z = torch.logsumexp(alpha + end[None], dim=1)
    return (log_z - gold).sum()
