"""Real weak-supervision data for tests (pu-llp/uci, partial-label/realworld), loaded from
../shared/datasets; each loader skips the test with a reason when the folder is absent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from _shared import shared_path


def mushroom(n: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Mushroom: 22 categorical columns, 1 = poisonous (3,916 of 8,124)."""
    df = pd.read_csv(shared_path("pu-llp", "uci", "agaricus-lepiota.data.gz"), header=None)
    df.columns = ["edibility"] + [f"a{i}" for i in range(1, df.shape[1])]
    if n is not None:
        df = df.sample(n=n, random_state=seed).reset_index(drop=True)
    return df.drop(columns=["edibility"]), (df["edibility"] == "p").to_numpy().astype(int)


def spambase(n: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Spambase: 54 numeric columns, 1 = spam (1,813 of 4,601)."""
    df = pd.read_csv(shared_path("pu-llp", "uci", "spambase.data.gz"))
    if n is not None:
        df = df.sample(n=n, random_state=seed).reset_index(drop=True)
    return df.drop(columns=["class"]), df["class"].to_numpy().astype(int)


def partial_label(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(standardised X (N, D) float32, candidates (N, K) bool, true labels (N,))."""
    import scipy.io as sio

    d = sio.loadmat(shared_path("partial-label", "realworld", f"{name}.mat"))
    X = np.asarray(d["data"], dtype=np.float64)
    X = ((X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)).astype(np.float32)
    C = np.asarray(d["partial_target"].toarray()).T > 0
    y = np.asarray(d["target"].toarray()).T.argmax(axis=1)
    return X, C, y
