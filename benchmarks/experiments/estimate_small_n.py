"""Experiment (not adopted): why alphafold at n=100 under-covers, and a studentized bootstrap.

Development seed only (``[999, n]``, not the benchmark draws). For each draw of n gold
rows of alphafold (binary Y, 17.7 % positive), it records truelabel's default DSL and
PPI++ intervals (score interval), DSL's Wald interval, ppi_py's PPI++ interval, and a
studentized (bootstrap-t) interval for the power-tuned PPI mean: 999 multinomial
resamples of the gold rows, lambda re-tuned in every resample, the unlabeled mean held
fixed (its variance kept in the se). Reports coverage, misses below/above, median width
relative to ppi_py, the spread of ``(estimate - truth) / se`` and corr(error, se).

    .venv/bin/python benchmarks/experiments/estimate_small_n.py [--reps 1000] [--n 100]
writes benchmarks/results/experiment_estimate_small_n.json
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_estimate import load_ppi  # noqa: E402
from truelabel.estimate import estimate_mean  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "results" / "experiment_estimate_small_n.json"


def tuned_ppi(
    Wt: np.ndarray, y: np.ndarray, f: np.ndarray, f_unl_mean: float, f_unl_var: float, n_unl: int
) -> tuple[np.ndarray, np.ndarray]:
    """Power-tuned PPI mean and se for each row of resampling weights ``Wt`` (B, n)."""
    n = len(y)
    my, mf = Wt @ y, Wt @ f
    vyy, vff, vyf = Wt @ (y * y) - my**2, Wt @ (f * f) - mf**2, Wt @ (y * f) - my * mf
    lam = np.clip(vyf / ((1 + n / n_unl) * np.maximum(vff, 1e-12)), 0, 1)
    theta = lam * f_unl_mean + my - lam * mf
    var = (vyy - 2 * lam * vyf + lam**2 * vff) / (n - 1) + lam**2 * f_unl_var / n_unl
    return theta, np.sqrt(np.maximum(var, 1e-18))


def main() -> None:
    from ppi_py import ppi_mean_ci

    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--boot", type=int, default=999)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    p = load_ppi("alphafold")
    N, n, truth, z = p.n_total, args.n, float(p.truth[0]), float(norm.ppf(0.975))
    rng, brng = np.random.default_rng([999, n]), np.random.default_rng(1)
    keys = ["truelabel dsl", "truelabel ppi++", "truelabel dsl [wald]", "ppi_py", "bootstrap-t"]
    rec: dict[str, list[tuple[float, float, float, float]]] = {k: [] for k in keys}
    for _ in range(args.reps):
        idx = rng.choice(N, n, replace=False)
        lab = np.zeros(N, bool)
        lab[idx] = True
        y_obs = np.where(lab, p.Y, np.nan)
        for key, kw in (
            ("truelabel dsl", {"method": "dsl"}),
            ("truelabel ppi++", {"method": "ppi++"}),
            ("truelabel dsl [wald]", {"method": "dsl", "interval": "wald"}),
        ):
            r = estimate_mean(y_obs, p.Yhat, level=0.95, random_state=0, **kw)
            vals = (r.estimate, r.se, r.ci_low, r.ci_high)
            rec[key].append(tuple(float(np.ravel(x)[0]) for x in vals))  # type: ignore[arg-type]
        lo, hi = ppi_mean_ci(p.Y[idx], p.Yhat[idx], p.Yhat[~lab], alpha=0.05)
        lo_f, hi_f = float(np.ravel(lo)[0]), float(np.ravel(hi)[0])
        rec["ppi_py"].append(((lo_f + hi_f) / 2, (hi_f - lo_f) / (2 * z), lo_f, hi_f))
        y, f = p.Y[idx], p.Yhat[idx]
        fu_mean, fu_var = float(p.Yhat[~lab].mean()), float(p.Yhat[~lab].var())
        th, se = tuned_ppi(np.full((1, n), 1 / n), y, f, fu_mean, fu_var, N - n)
        Wt = brng.multinomial(n, np.full(n, 1 / n), size=args.boot) / n
        thb, seb = tuned_ppi(Wt, y, f, fu_mean, fu_var, N - n)
        q_lo, q_hi = np.quantile((thb - th[0]) / seb, [0.025, 0.975])
        rec["bootstrap-t"].append(
            (float(th[0]), float(se[0]), float(th[0] - q_hi * se[0]), float(th[0] - q_lo * se[0]))
        )
    ppi_width = float(np.median([h - lo_ for _, _, lo_, h in rec["ppi_py"]]))
    summary = {}
    for key, rows in rec.items():
        a = np.array(rows)
        zs = (a[:, 0] - truth) / a[:, 1]
        width = float(np.median(a[:, 3] - a[:, 2]))
        summary[key] = {
            "coverage": float(np.mean((a[:, 2] <= truth) & (truth <= a[:, 3]))),
            "truth_below_interval": int(np.sum(truth < a[:, 2])),
            "truth_above_interval": int(np.sum(truth > a[:, 3])),
            "median_width": width,
            "width_over_ppi_py": width / ppi_width,
            "sd_of_z": float(zs.std()),
            "corr_error_se": float(np.corrcoef(a[:, 0] - truth, a[:, 1])[0, 1]),
        }
        s = summary[key]
        print(
            f"{key:22s} coverage {s['coverage']:.4f}  below {s['truth_below_interval']:3d} "
            f"above {s['truth_above_interval']:3d}  width/ppi_py {s['width_over_ppi_py']:.3f}  "
            f"sd(z) {s['sd_of_z']:.3f}  corr(err, se) {s['corr_error_se']:.2f}"
        )
    OUT.write_text(
        json.dumps({"dataset": "alphafold", "n": n, "reps": args.reps, "seed": [999, n], **summary})
    )


if __name__ == "__main__":
    main()
