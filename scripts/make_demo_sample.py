"""Build the bundled demo sample: 2,000 Banking77 training texts, 8% of labels flipped.

Reproducible: ``python scripts/make_demo_sample.py`` rewrites
``src/truelabel/data/banking77_demo.csv`` byte for byte (seed 7).

Banking77 (Casanueva et al., 2020, PolyAI) is licensed CC BY 4.0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "datasets" / "text" / "banking77" / "train.csv"
OUT = ROOT / "src" / "truelabel" / "data" / "banking77_demo.csv"
N, FLIP_RATE, SEED = 2000, 0.08, 7


def main() -> None:
    df = pd.read_csv(SRC)
    rng = np.random.default_rng(SEED)
    # Stratified: the same share of every intent.
    per_class = df.groupby("category").indices
    picked = np.concatenate(
        [
            rng.choice(idx, size=round(len(idx) * N / len(df)), replace=False)
            for _, idx in sorted(per_class.items())
        ]
    )
    take = df.iloc[rng.permutation(picked)].reset_index(drop=True)
    classes = np.array(sorted(take["category"].unique()))
    true = take["category"].to_numpy()
    noisy = true.copy()
    flip = rng.random(len(take)) < FLIP_RATE
    # A flipped label becomes a different class chosen uniformly at random.
    for i in np.flatnonzero(flip):
        others = classes[classes != true[i]]
        noisy[i] = others[rng.integers(len(others))]
    out = pd.DataFrame(
        {
            "id": [f"b77-{i:05d}" for i in range(len(take))],
            "text": take["text"],
            "label": noisy,
            "true_label": true,
        }
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(OUT, index=False)
    print(f"{len(out)} rows, {int(flip.sum())} flipped ({flip.mean():.1%}) -> {OUT}")


if __name__ == "__main__":
    main()
