"""Per-item losses for noisy labels (torch): CE, GCE, SCE, forward correction, ELR.

Every loss takes logits of shape (B, K) and targets of shape (B, K) (one-hot or a
soft posterior) and returns a per-item loss of shape (B,), so the training schemes can
rank items by loss (small-loss selection, co-teaching) before averaging.
"""

from __future__ import annotations

import torch

__all__ = [
    "LOSSES",
    "cross_entropy",
    "elr_penalty",
    "forward_cross_entropy",
    "generalized_cross_entropy",
    "symmetric_cross_entropy",
]


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, **_: float) -> torch.Tensor:
    """``-sum_k t_k log p_k``; shape (B,)."""
    return -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1)


def generalized_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, *, q: float = 0.7, **_: float
) -> torch.Tensor:
    """Generalized CE (Zhang & Sabuncu 2018): ``sum_k t_k (1 - p_k^q) / q``; shape (B,).

    ``q -> 0`` is CE, ``q = 1`` is MAE (robust but slow to fit).
    """
    p = torch.softmax(logits, dim=1).clamp_min(1e-7)
    return (targets * (1.0 - p.pow(q)) / q).sum(dim=1)


def symmetric_cross_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float = 0.1,
    beta: float = 1.0,
    **_: float,
) -> torch.Tensor:
    """Symmetric CE (Wang et al. 2019): ``alpha * CE + beta * reverse CE``; shape (B,).

    Reverse CE is ``-sum_k p_k log t_k`` with ``log 0`` clipped to ``log 1e-4``.
    """
    logp = torch.log_softmax(logits, dim=1)
    ce = -(targets * logp).sum(dim=1)
    rce = -(logp.exp() * torch.log(targets.clamp(1e-4, 1.0))).sum(dim=1)
    return alpha * ce + beta * rce


def elr_penalty(logits: torch.Tensor, ema_targets: torch.Tensor) -> torch.Tensor:
    """Early-learning regularisation (Liu et al. 2020): ``log(1 - <p, t_ema>)``; shape (B,).

    ``t_ema`` is a running average of the model's own past predictions; the penalty
    pulls the model towards what it learned early (the clean signal) and away from
    memorising the noisy labels later on.
    """
    p = torch.softmax(logits, dim=1).clamp(1e-4, 1.0 - 1e-4)
    return torch.log(1.0 - (ema_targets * p).sum(dim=1))


def forward_cross_entropy(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    noise_matrix: torch.Tensor | None = None,
    **_: float,
) -> torch.Tensor:
    """Forward loss correction (Patrini et al. 2017): CE against the *noisy* class probabilities.

    ``q = p @ noise_matrix.T`` with ``noise_matrix[i, j] = P(given = i | true = j)``; the
    network's softmax ``p`` then estimates the clean class. Shape (B,).
    """
    if noise_matrix is None:
        return cross_entropy(logits, targets)
    q = torch.softmax(logits, dim=1) @ noise_matrix.T
    return -(targets * torch.log(q.clamp_min(1e-7))).sum(dim=1)


LOSSES = {
    "ce": cross_entropy,
    "gce": generalized_cross_entropy,
    "sce": symmetric_cross_entropy,
    "elr": cross_entropy,  # plus elr_penalty, added by the trainer
    "forward": forward_cross_entropy,  # needs the estimator's noise_matrix
}
