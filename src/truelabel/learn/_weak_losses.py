"""Training objectives for weaker supervision (torch), plugged into ``train_network``.

Each objective yields its own batches and returns the scalar to minimise for a batch of
logits, so the shared training loop (``learn/_train.py``) runs every kind of supervision:

- :class:`NonNegativePURisk`: positives and unlabeled rows (nnPU, Kiryo et al. 2017).
- :class:`ProdenObjective`: candidate label sets (PRODEN, Lv et al. 2020).
- :class:`ProportionObjective`: bag label proportions (DLLP, Ardehaly & Culotta 2017).
- :class:`WeightedCrossEntropy`: known labels and confidence-weighted pseudo-labels.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "NonNegativePURisk",
    "ProdenObjective",
    "ProportionObjective",
    "WeightedCrossEntropy",
]


def _split_even(idx: np.ndarray, n_batches: int) -> list[np.ndarray]:
    return [a for a in np.array_split(idx, n_batches)]


def _random_batches(n: int, batch_size: int, g: torch.Generator) -> Iterator[np.ndarray]:
    perm = torch.randperm(n, generator=g).numpy()
    for start in range(0, n, batch_size):
        yield perm[start : start + batch_size]


class NonNegativePURisk:
    """Non-negative PU risk with the logistic loss on ``g = z_1 - z_0``.

    ``R(g) = pi * E_P[l(g, +1)] + max(0, E_U[l(g, -1)] - pi * E_P[l(g, -1)])`` where P
    are the labeled positives and U every row (labeled or not: the rows are a sample of
    the marginal, as in the single-training-set setting). When the negative part drops
    below ``-beta`` the step ascends on it with weight ``gamma`` (Kiryo et al.'s
    defence against overfitting). With the logistic loss the minimiser is the class
    posterior, so ``softmax(z)`` are probabilities.

    Parameters
    ----------
    positive : ndarray of shape (N,), bool
        Labeled positives.
    prior : float in (0, 1)
        ``P(y = positive)`` over all rows.
    beta, gamma : float
        ``beta = 0, gamma = 1`` as in the paper.
    """

    def __init__(
        self, positive: np.ndarray, prior: float, *, beta: float = 0.0, gamma: float = 1.0
    ) -> None:
        self.positive = np.asarray(positive, dtype=bool)
        self.prior = float(prior)
        self.beta = float(beta)
        self.gamma = float(gamma)

    def batches(self, n: int, batch_size: int, g: torch.Generator) -> Iterator[np.ndarray]:
        """Each batch holds the same share of labeled positives as the data."""
        n_batches = max(1, int(np.ceil(n / batch_size)))
        pos = np.flatnonzero(self.positive)
        unl = np.flatnonzero(~self.positive)
        pos = pos[torch.randperm(len(pos), generator=g).numpy()]
        unl = unl[torch.randperm(len(unl), generator=g).numpy()]
        for a, b in zip(_split_even(pos, n_batches), _split_even(unl, n_batches), strict=True):
            yield np.concatenate([a, b])

    def loss(self, logits: torch.Tensor, idx: np.ndarray, epoch: int) -> torch.Tensor:
        gz = logits[:, 1] - logits[:, 0]
        is_pos = torch.from_numpy(self.positive[idx])
        loss_pos = F.softplus(-gz)  # l(g, +1)
        loss_neg = F.softplus(gz)  # l(g, -1)
        n_p = is_pos.sum().clamp_min(1)
        r_p_plus = (loss_pos * is_pos).sum() / n_p
        r_p_minus = (loss_neg * is_pos).sum() / n_p
        r_u_minus = loss_neg.mean()
        neg = r_u_minus - self.prior * r_p_minus
        if float(neg.detach()) < -self.beta:
            return -self.gamma * neg
        return self.prior * r_p_plus + neg


class ProdenObjective:
    """Progressive identification of the true label among the candidates (PRODEN).

    The loss is cross-entropy against per-item weights over the candidate set; after
    every step the weights of the batch become the model's probabilities restricted to
    the candidates and renormalised (uniform over the candidates at the start).

    Parameters
    ----------
    candidates : ndarray of shape (N, K), bool
        Each row has at least one candidate.

    Attributes
    ----------
    weights : ndarray of shape (N, K), float32
        The current disambiguation (rows sum to 1, zero outside the candidates).
    """

    def __init__(self, candidates: np.ndarray) -> None:
        c = np.asarray(candidates, dtype=np.float32)
        self.mask = torch.from_numpy(c)
        self.weights = torch.from_numpy(c / c.sum(axis=1, keepdims=True))

    def batches(self, n: int, batch_size: int, g: torch.Generator) -> Iterator[np.ndarray]:
        return _random_batches(n, batch_size, g)

    def loss(self, logits: torch.Tensor, idx: np.ndarray, epoch: int) -> torch.Tensor:
        t = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        logp = torch.log_softmax(logits, dim=1)
        out = -(self.weights[t] * logp).sum(dim=1).mean()
        with torch.no_grad():
            w = logp.exp() * self.mask[t]
            self.weights[t] = w / w.sum(dim=1, keepdim=True).clamp_min(1e-12)
        return out


class ProportionObjective:
    """Bag-level proportion matching (DLLP): cross-entropy between the known class shares
    of a bag and the mean predicted probabilities of its rows.

    Batches are whole bags, packed until ``batch_size`` rows (a bag larger than that is a
    batch of its own).

    Parameters
    ----------
    bag : ndarray of shape (N,), int
        Bag index of each row, 0..B-1.
    proportions : ndarray of shape (B, K), float
        Class shares per bag; rows sum to 1.
    """

    def __init__(self, bag: np.ndarray, proportions: np.ndarray) -> None:
        self.bag = np.asarray(bag, dtype=np.int64)
        self.props = torch.from_numpy(np.asarray(proportions, dtype=np.float32))
        order = np.argsort(self.bag, kind="stable")
        counts = np.bincount(self.bag, minlength=len(proportions))
        self.members = np.split(order, np.cumsum(counts)[:-1])
        self.counts = counts

    def batches(self, n: int, batch_size: int, g: torch.Generator) -> Iterator[np.ndarray]:
        order = torch.randperm(len(self.members), generator=g).numpy()
        cur: list[np.ndarray] = []
        size = 0
        for b in order:
            m = self.members[b]
            if not len(m):
                continue
            if cur and size + len(m) > batch_size:
                yield np.concatenate(cur)
                cur, size = [], 0
            cur.append(m)
            size += len(m)
        if cur:
            yield np.concatenate(cur)

    def loss(self, logits: torch.Tensor, idx: np.ndarray, epoch: int) -> torch.Tensor:
        bags, inv = np.unique(self.bag[idx], return_inverse=True)
        inv_t = torch.from_numpy(inv.astype(np.int64))
        p = torch.softmax(logits, dim=1)
        sums = torch.zeros((len(bags), p.shape[1]), dtype=p.dtype).index_add_(0, inv_t, p)
        size = torch.from_numpy(np.bincount(inv, minlength=len(bags)).astype(np.float32))
        mean = (sums / size[:, None]).clamp_min(1e-7)
        target = self.props[torch.from_numpy(bags)]
        return -(target * torch.log(mean)).sum(dim=1).mean()


class WeightedCrossEntropy:
    """Cross-entropy with a weight per row: ``sum_i w_i CE(t_i, z_i) / sum_i w_i`` per batch
    (confidence-weighted pseudo-labels beside weight-1 known labels).

    Parameters
    ----------
    targets : ndarray of shape (N, K)
        One-hot or soft targets.
    weights : ndarray of shape (N,), non-negative
    """

    def __init__(self, targets: np.ndarray, weights: np.ndarray) -> None:
        self.targets = torch.from_numpy(np.asarray(targets, dtype=np.float32))
        self.weights = torch.from_numpy(np.asarray(weights, dtype=np.float32))

    def batches(self, n: int, batch_size: int, g: torch.Generator) -> Iterator[np.ndarray]:
        return _random_batches(n, batch_size, g)

    def loss(self, logits: torch.Tensor, idx: np.ndarray, epoch: int) -> torch.Tensor:
        t = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        w = self.weights[t]
        ce = -(self.targets[t] * torch.log_softmax(logits, dim=1)).sum(dim=1)
        return (w * ce).sum() / w.sum().clamp_min(1e-12)
