"""The torch training loop shared by the robust end models.

Everything random (initialisation, batch order, dropout masks) draws from one local
``torch.Generator``; the global torch seed is never touched.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .._errors import InputError
from ._losses import LOSSES, elr_penalty

__all__ = ["train_network"]

logger = logging.getLogger(__name__)


class _Net:
    """A linear model or a one-hidden-layer MLP as plain tensors."""

    def __init__(self, d: int, k: int, hidden: int, g: torch.Generator) -> None:
        def uniform(shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
            bound = 1.0 / math.sqrt(max(fan_in, 1))
            w = (torch.rand(shape, generator=g) * 2.0 - 1.0) * bound
            return w.requires_grad_(True)

        if hidden > 0:
            self.params = [
                uniform((d, hidden), d),
                uniform((hidden,), d),
                uniform((hidden, k), hidden),
                uniform((k,), hidden),
            ]
        else:
            self.params = [
                torch.zeros((d, k), requires_grad=True),
                torch.zeros((k,), requires_grad=True),
            ]
        self.hidden = hidden

    def forward(self, x: torch.Tensor, drop: float, g: torch.Generator | None) -> torch.Tensor:
        W0, b0 = self.params[0], self.params[1]
        h = (torch.sparse.mm(x, W0) if x.is_sparse else x @ W0) + b0
        if self.hidden > 0:
            h = torch.relu(h)
            if drop > 0 and g is not None:
                keep = (torch.rand(h.shape, generator=g) >= drop).to(h.dtype)
                h = h * keep / (1.0 - drop)
            h = h @ self.params[2] + self.params[3]
        return h

    def numpy(self) -> dict[str, np.ndarray]:
        names = ["W0", "b0", "W1", "b1"]
        return {
            n: p.detach().numpy().astype(np.float32).copy()
            for n, p in zip(names, self.params, strict=False)
        }


def _batch(X: Any, idx: np.ndarray, drop: float, g: torch.Generator | None) -> torch.Tensor:
    """Rows ``idx`` of X as a (sparse or dense) tensor, with input dropout when training."""
    if sp.issparse(X):
        sub = X[idx].tocoo()
        vals = torch.from_numpy(sub.data.astype(np.float32))
        if drop > 0 and g is not None:
            vals = vals * (torch.rand(vals.shape, generator=g) >= drop).to(vals.dtype) / (1 - drop)
        ij = torch.from_numpy(np.vstack([sub.row, sub.col]).astype(np.int64))
        return torch.sparse_coo_tensor(
            ij, vals, size=sub.shape, is_coalesced=True, check_invariants=False
        )
    x = torch.from_numpy(X[idx])
    if drop > 0 and g is not None:
        x = x * (torch.rand(x.shape, generator=g) >= drop).to(x.dtype) / (1 - drop)
    return x


def train_network(
    X: Any,
    targets: np.ndarray,
    *,
    hidden: int,
    params: dict[str, Any],
    seed: int,
    name: str = "model",
    validation: tuple[Any, np.ndarray] | None = None,
    objective: Any = None,
) -> tuple[list[dict[str, np.ndarray]], list[float], list[float]]:
    """Train one network (two for co-teaching) and return their weights.

    Parameters
    ----------
    X : ndarray of shape (N, D), float32, or CSR matrix
    targets : ndarray of shape (N, K), float32
        One-hot or soft targets.
    hidden : int
        0 for logistic regression, else the MLP's hidden width.
    params : dict
        The estimator's hyperparameters (``get_params()``).
    seed : int
        Seeds the local generator.
    validation : (X_val, y_val), optional
        Early stopping: held-out rows ``X_val`` (same kind as ``X``) and their class
        indices ``y_val`` of shape (M,). After every epoch the accuracy of the
        (averaged) network(s) on them is recorded; training stops after
        ``params["n_iter_no_change"]`` epochs without improvement and the weights of
        the best epoch are returned.
    objective : optional
        A weak-supervision objective (see ``learn/_weak_losses.py``) that replaces the
        per-item loss and the scheme: ``objective.batches(n, batch_size, g)`` yields the
        row indices of each batch (e.g. whole bags) and ``objective.loss(logits, idx,
        epoch)`` returns the scalar to minimise (it may update its own state, such as
        PRODEN's candidate weights). ``targets`` then only fixes the number of classes.

    Returns
    -------
    weights : list of dict of ndarray
        The last epoch's, or with ``validation`` the best epoch's.
    loss_curve : list of float, one mean loss per epoch
    validation_scores : list of float, one held-out accuracy per epoch (empty without
        ``validation``)

    Raises
    ------
    InputError
        When the loss becomes NaN or infinite (diverged run).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is faster and stays deterministic
    try:
        return _train(
            X,
            targets,
            hidden=hidden,
            params=params,
            seed=seed,
            name=name,
            validation=validation,
            objective=objective,
        )
    finally:
        torch.set_num_threads(threads)


def _train(
    X: Any,
    targets: np.ndarray,
    *,
    hidden: int,
    params: dict[str, Any],
    seed: int,
    name: str,
    validation: tuple[Any, np.ndarray] | None = None,
    objective: Any = None,
) -> tuple[list[dict[str, np.ndarray]], list[float], list[float]]:
    g = torch.Generator().manual_seed(seed)
    n, d = X.shape
    k = targets.shape[1]
    scheme = params["scheme"]
    loss_name = params["loss"]
    loss_fn = LOSSES[loss_name]
    kw: dict[str, float] = {
        "q": params["gce_q"],
        "alpha": params["sce_alpha"],
        "beta": params["sce_beta"],
    }
    loss_kw: dict[str, torch.Tensor] = {}
    if loss_name == "forward" and params.get("noise_matrix") is not None:
        loss_kw["noise_matrix"] = torch.as_tensor(
            np.asarray(params["noise_matrix"], dtype=np.float32)
        )
    drop_in = float(params["dropout"]) if hidden == 0 else float(params["dropout"]) / 2
    drop_hidden = float(params["dropout"]) if hidden > 0 else 0.0
    if scheme == "coteach":
        drop_in = max(drop_in, 0.2)  # feature compression: each net sees a different subset
    n_nets = 2 if scheme == "coteach" and objective is None else 1
    nets = [_Net(d, k, hidden, g) for _ in range(n_nets)]
    opt = torch.optim.Adam(
        [p for net in nets for p in net.params],
        lr=float(params["lr"]),
        weight_decay=float(params["weight_decay"]),
    )
    T = torch.from_numpy(targets)
    ema = torch.zeros((n, k), dtype=torch.float32) if loss_name == "elr" else None
    bs = int(params["batch_size"])
    forget = float(params["forget_rate"])
    ramp = int(params["ramp_epochs"])
    curve: list[float] = []
    scores: list[float] = []
    best: list[dict[str, np.ndarray]] | None = None
    best_epoch = 0
    patience = int(params.get("n_iter_no_change", 10))
    if validation is not None:  # the held-out rows as a tensor once, not every epoch
        x_val = _batch(validation[0], np.arange(validation[0].shape[0]), 0.0, None)
        y_val = validation[1]
    for epoch in range(int(params["epochs"])):
        rate = forget * min(1.0, epoch / ramp) if ramp > 0 else forget
        if objective is not None:
            batches = objective.batches(n, bs, g)
        else:
            perm = torch.randperm(n, generator=g).numpy()
            batches = (perm[start : start + bs] for start in range(0, n, bs))
        total, seen = 0.0, 0
        for idx in batches:
            tb = T[idx]
            per_net = []
            for net in nets if objective is None else []:
                xb = _batch(X, idx, drop_in, g)
                logits = net.forward(xb, drop_hidden, g)
                li = loss_fn(logits, tb, **kw, **loss_kw)
                if ema is not None:
                    with torch.no_grad():
                        p = torch.softmax(logits, dim=1).clamp(1e-4, 1 - 1e-4)
                        p = p / p.sum(dim=1, keepdim=True)
                        ema[idx] = (
                            float(params["elr_beta"]) * ema[idx]
                            + (1 - float(params["elr_beta"])) * p
                        )
                    li = li + float(params["elr_lambda"]) * elr_penalty(logits, ema[idx])
                per_net.append(li)
            n_keep = max(1, int(round((1.0 - rate) * len(idx))))
            if objective is not None:
                xb = _batch(X, idx, drop_in, g)
                loss = objective.loss(nets[0].forward(xb, drop_hidden, g), idx, epoch)
            elif scheme == "plain" or n_keep >= len(idx):
                loss = sum(li.mean() for li in per_net)
            elif scheme == "smallloss":
                keep = torch.argsort(per_net[0].detach())[:n_keep]
                loss = per_net[0][keep].mean()
            else:  # coteach: each net learns from the items its peer finds easy
                keep0 = torch.argsort(per_net[0].detach())[:n_keep]
                keep1 = torch.argsort(per_net[1].detach())[:n_keep]
                loss = per_net[0][keep1].mean() + per_net[1][keep0].mean()
            assert isinstance(loss, torch.Tensor)
            if not torch.isfinite(loss):
                raise InputError(
                    f"{name} training diverged: the {loss_name} loss became "
                    f"{float(loss.detach())} at epoch {epoch + 1}; no model was produced. "
                    f"Lower lr (now {params['lr']}), scale the features, or check the "
                    "inputs for extreme values."
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        curve.append(total / max(seen, 1) / n_nets)
        logger.debug("%s epoch %d loss %.4f", name, epoch + 1, curve[-1])
        if validation is not None:
            scores.append(_held_out_accuracy(nets, x_val, y_val))
            if best is None or scores[-1] > scores[best_epoch]:
                best, best_epoch = [net.numpy() for net in nets], epoch
            elif epoch - best_epoch >= patience:
                logger.debug("%s early stop after epoch %d", name, epoch + 1)
                break
    for net in nets:
        for p in net.params:
            if not torch.isfinite(p).all():
                raise InputError(
                    f"{name} training diverged: weights became NaN or infinite; no model was "
                    f"produced. Lower lr (now {params['lr']}) or scale the features."
                )
    if best is not None:
        return best, curve, scores
    return [net.numpy() for net in nets], curve, scores


def _held_out_accuracy(nets: list[_Net], x: torch.Tensor, y: np.ndarray) -> float:
    """Accuracy of the networks' averaged probabilities (no dropout) on held-out rows."""
    with torch.no_grad():
        p = sum(torch.softmax(net.forward(x, 0.0, None), dim=1) for net in nets)
        assert isinstance(p, torch.Tensor)
        return float((p.argmax(dim=1).numpy() == y).mean())
