"""Helpers shared by benchmark scripts: dataset paths, loaders, noise injection, results."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"


def load_text_dataset(name: str) -> tuple[list[str], np.ndarray, list[str]]:
    """Return (texts, integer labels, class names) for banking77 / ag_news / 20news."""
    if name == "banking77":
        df = pd.read_csv(DATA / "text" / "banking77" / "train.csv")
        classes = sorted(df["category"].unique())
        y = np.searchsorted(classes, df["category"].to_numpy())
        return df["text"].astype(str).tolist(), y, classes
    if name == "ag_news":
        df = pd.read_csv(DATA / "text" / "ag_news" / "test.csv")
        texts = (df["title"].astype(str) + ". " + df["description"].astype(str)).tolist()
        return texts, df["label"].to_numpy() - 1, ["World", "Sports", "Business", "Sci/Tech"]
    if name == "20news":
        df = pd.read_json(DATA / "label-errors" / "20news_train_sklearn_order.jsonl.gz", lines=True)
        names = json.loads((DATA / "label-errors" / "target_names.json").read_text())
        return df["text"].astype(str).tolist(), df["label"].to_numpy(), list(names)
    raise ValueError(name)


def inject_noise(y: np.ndarray, k: int, rate: float, kind: str, seed: int = 0) -> np.ndarray:
    """Flip ``rate`` of the labels. ``symmetric``: to a uniformly random other class;
    ``pair``: class c always to its partner class (a fixed random derangement)."""
    rng = np.random.default_rng(seed)
    noisy = y.copy()
    flip = rng.random(len(y)) < rate
    if kind == "symmetric":
        noisy[flip] = (y[flip] + rng.integers(1, k, flip.sum())) % k
    elif kind == "pair":
        perm = rng.permutation(k)
        partner = np.empty(k, dtype=int)
        partner[perm] = np.roll(perm, 1)
        noisy[flip] = partner[y[flip]]
    else:
        raise ValueError(kind)
    return noisy


def prf(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of a flagged set against the true error mask."""
    tp = float((flagged & truth).sum())
    p = tp / max(flagged.sum(), 1)
    r = tp / max(truth.sum(), 1)
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / max(p + r, 1e-12), 4),
        "n_flagged": int(flagged.sum()),
    }


def ece(posterior: np.ndarray, gold: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of the top-class probability (equal-width bins) on gold.

    Parameters
    ----------
    posterior : ndarray of shape (n_items, n_classes)
    gold : ndarray of shape (n_items,), int
        Gold class codes; items with ``gold < 0`` are left out.
    """
    has = gold >= 0
    p = np.asarray(posterior, dtype=np.float64)[has]
    if not len(p):
        return float("nan")
    conf = p.max(axis=1)
    right = p.argmax(axis=1) == gold[has]
    idx = np.clip((conf * n_bins).astype(int), 0, n_bins - 1)
    gap = np.abs(
        np.bincount(idx, conf, minlength=n_bins) - np.bincount(idx, right, minlength=n_bins)
    )
    return float(gap.sum() / len(p))


def machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "note": "2-core machine shared with other jobs while measuring; compare ratios within a run",
    }


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    p = RESULTS / f"{name}.json"
    p.write_text(json.dumps(payload, indent=2, default=float))
    return p


# ---------------------------------------------------------------- weaker supervision data
UCI_COLUMNS = {
    "adult": [
        "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
        "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
        "hours_per_week", "native_country", "income",
    ],
}  # fmt: skip


def load_uci(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """A pu-llp/uci table as (feature columns, clean binary labels (N,) with 1 = positive).

    Positives: Adult ``>50K``, Mushroom poisonous (``p``), Spambase spam (``1``).
    """
    base = DATA / "pu-llp" / "uci"
    if name == "adult":
        df = pd.read_csv(base / "adult.data.gz", header=None, skipinitialspace=True, na_values="?")
        df.columns = UCI_COLUMNS["adult"]
        return df.drop(columns=["income"]), (df["income"] == ">50K").to_numpy().astype(int)
    if name == "mushroom":
        df = pd.read_csv(base / "agaricus-lepiota.data.gz", header=None)
        df.columns = ["edibility"] + [f"a{i}" for i in range(1, df.shape[1])]
        return df.drop(columns=["edibility"]), (df["edibility"] == "p").to_numpy().astype(int)
    if name == "spambase":
        df = pd.read_csv(base / "spambase.data.gz")
        return df.drop(columns=["class"]), df["class"].to_numpy().astype(int)
    raise ValueError(name)


def uci_split(
    name: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.random.Generator]:
    """The weak-supervision benchmarks' split of a pu-llp/uci table: 70/30 at random (seed 0),
    tabular features fitted on the training rows.

    Returns (X_train, X_test, y_train, y_test, the generator for further draws).
    """
    from truelabel.featurize import featurize_table

    frame, y = load_uci(name)
    rng = np.random.default_rng(0)
    test = rng.random(len(y)) < 0.3
    X, tab = featurize_table(frame[~test])
    return X, tab.transform(frame[test]), y[~test], y[test], rng


def load_partial_label(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A partial-label/realworld set as (X (N, D) float64, candidates (N, K) bool, y (N,))."""
    import scipy.io as sio

    d = sio.loadmat(DATA / "partial-label" / "realworld" / f"{name}.mat")
    X = np.asarray(d["data"], dtype=np.float64)
    C = np.asarray(d["partial_target"].toarray()).T > 0
    y = np.asarray(d["target"].toarray()).T.argmax(axis=1)
    return X, C, y
