"""Experiment (not adopted): can modelling dependence between LLM sources beat the best model?

On llms_for_css, Dawid-Skene beats the hindsight-best single model on 4 of 9 tasks. The
families of models (flan-t5-*, text-*-001) make correlated mistakes, which conditional
independence counts as independent evidence. Two fixes were tried, gold used for
scoring only:

- ``dep``: refit DS with per-source vote weights ``1 / sum_t c_st``, where ``c_st`` is
  how much more often sources s and t give the same answer than the DS posterior and
  confusion matrices predict (``(obs - pred) / (1 - pred)``, clipped at 0), 1-3 rounds.
- ``rank1``: one-coin accuracies from a rank-1 fit of the pairwise agreement matrix
  (method of moments; optionally dropping pairs with large positive residuals, i.e.
  dependent pairs), then a log-odds weighted vote.

    .venv/bin/python benchmarks/experiments/llm_source_dependence.py
writes benchmarks/results/experiment_llm_source_dependence.json
"""

from __future__ import annotations

import dataclasses
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_aggregate_llm import TASKS, coded_task  # noqa: E402
from truelabel.aggregate import DawidSkene, PooledDawidSkene  # noqa: E402
from truelabel.sources import VoteArrays  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "results" / "experiment_llm_source_dependence.json"


def answer_matrix(v: VoteArrays) -> np.ndarray:
    """(n_items, n_sources) class codes, -1 = no answer."""
    L = np.full((v.n_items, v.n_sources), -1)
    L[v.item, v.source] = v.label
    return L


def excess_agreement(L: np.ndarray, post: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(S, S) agreement beyond what the posterior and confusion matrices predict, >= 0."""
    S, K = L.shape[1], post.shape[1]
    C = np.eye(S)
    for s in range(S):
        for t in range(s + 1, S):
            both = (L[:, s] >= 0) & (L[:, t] >= 0)
            if both.sum() < 10:
                continue
            obs = float((L[both, s] == L[both, t]).mean())
            same_given_k = (conf[s][:, :K] * conf[t][:, :K]).sum(axis=1)
            pred = float((post[both] @ same_given_k).mean())
            C[s, t] = C[t, s] = max((obs - pred) / max(1.0 - pred, 1e-6), 0.0)
    return C


def rank1_accuracy(L: np.ndarray, K: int, drop_dependent: bool, thresh: float = 2.5) -> np.ndarray:
    """One-coin accuracies from ``P(s == t) - 1/K = (K-1)/K * b_s * b_t``, b = (K a - 1)/(K - 1)."""
    S = L.shape[1]
    V = L >= 0
    A = np.full((S, S), np.nan)
    for s in range(S):
        for t in range(S):
            both = V[:, s] & V[:, t]
            if s != t and both.sum() >= 20:
                A[s, t] = (L[both, s] == L[both, t]).mean()
    M = (A - 1.0 / K) * K / (K - 1)
    mask = ~np.isnan(M)
    b = np.full(S, 0.5)
    for _ in range(3):
        Mz = np.where(mask, M, 0.0)
        for _ in range(200):  # alternating least squares on the observed off-diagonal
            b = Mz @ b / np.maximum(mask.astype(float) @ (b**2), 1e-9)
            b = np.clip(b, -0.99, 0.999)
        if not drop_dependent:
            break
        R = np.where(mask, M - np.outer(b, b), 0.0)
        sd = np.sqrt(np.sum(R[mask] ** 2) / mask.sum())
        new = mask & (R < thresh * sd)
        if (new == mask).all():
            break
        mask = new
    return np.clip((b * (K - 1) + 1) / K, 1.0 / K + 1e-3, 0.999)


def weighted_vote(L: np.ndarray, acc: np.ndarray, K: int) -> np.ndarray:
    """Argmax of log-odds-weighted votes (one-coin model)."""
    w = np.log(acc * (K - 1) / (1 - acc))
    scores = np.zeros((L.shape[0], K))
    for s in range(L.shape[1]):
        m = L[:, s] >= 0
        np.add.at(scores, (np.flatnonzero(m), L[m, s]), w[s])
    return scores.argmax(axis=1)


def run_task(task: str) -> dict[str, object]:
    v, g, _ = coded_task(task)
    has = g >= 0
    L = answer_matrix(v)
    true = np.array([(L[has, s] == g[has]).mean() for s in range(v.n_sources)])
    row: dict[str, object] = {"task": task, "best_single": float(true.max())}
    for name, model in (("ds", DawidSkene), ("ds_pooled", PooledDawidSkene)):
        m = model().fit(v)
        row[name] = float((m.posterior_.argmax(1)[has] == g[has]).mean())
        for r in range(3):
            c = excess_agreement(L, m.posterior_, m.confusion_)
            w = (1.0 / c.sum(axis=1))[v.source].astype(np.float32)
            m = model().fit(dataclasses.replace(v, weight=w))
            row[f"{name}_dep{r + 1}"] = float((m.posterior_.argmax(1)[has] == g[has]).mean())
    for name, drop in (("rank1", False), ("rank1_drop_dependent", True)):
        a = rank1_accuracy(L, v.n_classes, drop)
        row[name] = float((weighted_vote(L, a, v.n_classes)[has] == g[has]).mean())
        row[f"{name}_spearman"] = float(spearmanr(a, true).statistic)
    return row


def main() -> None:
    warnings.simplefilter("ignore")
    rows = []
    for task in TASKS:
        rows.append(run_task(task))
        print({k: round(x, 3) if isinstance(x, float) else x for k, x in rows[-1].items()})
    df = pd.DataFrame(rows).set_index("task")
    acc_cols = [c for c in df.columns if c != "best_single" and not c.endswith("_spearman")]
    wins = {c: int((df[c] > df["best_single"]).sum()) for c in acc_cols}
    print(df.round(3).to_string())
    print("tasks where the method beats the hindsight-best single model:", wins)
    OUT.write_text(json.dumps({"rows": rows, "wins_over_best_single": wins}, indent=1))


if __name__ == "__main__":
    main()
