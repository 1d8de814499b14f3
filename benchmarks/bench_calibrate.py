"""Calibration and conformal benchmark (issue 4).

For AG News (test split 80/20), Banking77 (train -> test) and SST-2 (train -> dev), an
MLP head on MiniLM features is trained on 80% of the training rows; the other 20% fit
the temperature (and vector scaling). ECE on the test set before/after, for a model
trained on clean labels and for an ELR model trained on 20% symmetric noise (its
temperature fitted on the *noisy* held-out labels, as a user would; plain, and
noise-aware with the known injection matrix or the confident-learning estimate). Conformal sets
(LAC/APS/RAPS; marginal, class-conditional and clustered [Ding et al. 2023]): empirical coverage over 200 random
calibration/test splits of the calibrated test probabilities at 90% and 95%, and the
mean set size. Baseline: the uncalibrated probabilities (same model, same run).

    .venv/bin/python benchmarks/bench_calibrate.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_learn import features, inject, load_text_tasks  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def mlp(**kw: Any) -> Any:
    from truelabel.learn import RobustMLPClassifier

    return RobustMLPClassifier(
        hidden_size=256, epochs=10, batch_size=256, lr=3e-3, dropout=0.2, random_state=0, **kw
    )


def conformal_sim(p: np.ndarray, y: np.ndarray, n_splits: int) -> list[dict[str, Any]]:
    from truelabel.calibrate import ConformalClassifier

    rows = []
    rng = np.random.default_rng(0)
    n = len(y)
    for score in ("lac", "aps", "raps"):
        for cc_flag in (False, True, "clustered"):
            for alpha in (0.1, 0.05):
                cov, size, fallback = [], [], []
                for _ in range(n_splits):
                    perm = rng.permutation(n)
                    cal, te = perm[: n // 2], perm[n // 2 :]
                    import warnings

                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        cc = ConformalClassifier(
                            score=score,
                            alpha=alpha,
                            class_conditional=cc_flag,
                            random_state=int(rng.integers(1 << 30)),
                        )
                        cc.fit(p[cal], y[cal])
                    s = cc.predict_sets(p[te])
                    cov.append(float(s[np.arange(len(te)), y[te]].mean()))
                    size.append(float(s.sum(1).mean()))
                    fallback.append(len(getattr(cc, "fallback_classes_", ())))
                rows.append(
                    {
                        "score": score,
                        "class_conditional": cc_flag,
                        "nominal": 1 - alpha,
                        "coverage_mean": float(np.mean(cov)),
                        "coverage_sd": float(np.std(cov)),
                        "within_1.5pts": bool(abs(np.mean(cov) - (1 - alpha)) <= 0.015),
                        "mean_set_size": float(np.mean(size)),
                        "mean_classes_on_marginal_threshold": float(np.mean(fallback)),
                    }
                )
    return rows


def main() -> None:
    from sklearn.model_selection import train_test_split

    from truelabel.calibrate import (
        TemperatureScaling,
        VectorScaling,
        brier_score,
        expected_calibration_error,
    )

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(RESULTS / "calibrate.json"))
    args = ap.parse_args()
    t0 = time.time()
    tasks = load_text_tasks()
    tasks = {k: tasks[k] for k in ("ag_news", "sst2", "banking77")}
    if args.quick:
        tasks = {"ag_news": tasks["ag_news"]}
    n_splits = 50 if args.quick else 200
    cal_rows, conf_rows = [], []
    for name, t in tasks.items():
        Xall, Xte = features(t["train_text"]), features(t["test_text"])
        yall, yte, k = t["train_y"], t["test_y"], t["k"]
        tr, ho = train_test_split(
            np.arange(len(yall)), test_size=0.2, random_state=0, stratify=yall
        )
        for setting in ("clean labels, CE", "20% symmetric noise, ELR"):
            y_used = yall if setting.startswith("clean") else inject(yall, k, 0.2, "symmetric", 1)
            est = mlp() if setting.startswith("clean") else mlp(loss="elr")
            est.fit(Xall[tr], y_used[tr])
            p_ho, p_te = est.predict_proba(Xall[ho]), est.predict_proba(Xte)
            ts = TemperatureScaling().fit(p_ho, y_used[ho])
            vs = VectorScaling().fit(p_ho, y_used[ho])
            pt, pv = ts.predict_proba(p_te), vs.predict_proba(p_te)
            row = {
                "dataset": name,
                "setting": setting,
                "test_accuracy": float((p_te.argmax(1) == yte).mean()),
                "temperature": ts.temperature_,
                "ece_before": expected_calibration_error(p_te, yte),
                "ece_temperature": expected_calibration_error(pt, yte),
                "ece_vector": expected_calibration_error(pv, yte),
                "brier_before": brier_score(p_te, yte),
                "brier_temperature": brier_score(pt, yte),
            }
            if not setting.startswith("clean"):
                from truelabel.audit import estimate_noise_matrices

                known = np.full((k, k), 0.2 / (k - 1))
                np.fill_diagonal(known, 0.8)
                est_nm = estimate_noise_matrices(y_used[ho], p_ho).noise_matrix
                for tag, nm in (("known", known), ("estimated", est_nm)):
                    tsn = TemperatureScaling(noise_matrix=nm).fit(p_ho, y_used[ho])
                    row[f"temperature_noise_aware_{tag}"] = tsn.temperature_
                    row[f"ece_noise_aware_{tag}_matrix"] = expected_calibration_error(
                        tsn.predict_proba(p_te), yte
                    )
                print(
                    f"  noise-aware T: known matrix T {row['temperature_noise_aware_known']:.2f} "
                    f"ECE {row['ece_noise_aware_known_matrix']:.4f}; CL-estimated matrix T "
                    f"{row['temperature_noise_aware_estimated']:.2f} ECE "
                    f"{row['ece_noise_aware_estimated_matrix']:.4f}",
                    flush=True,
                )
            row["target_ece_le_0.03"] = bool(min(row["ece_temperature"], row["ece_vector"]) <= 0.03)
            cal_rows.append(row)
            print(
                f"[{name}] {setting}: acc {row['test_accuracy']:.3f} T {ts.temperature_:.2f} ECE "
                f"{row['ece_before']:.4f} -> {row['ece_temperature']:.4f} (vector "
                f"{row['ece_vector']:.4f})",
                flush=True,
            )
            if setting.startswith("clean"):
                for r in conformal_sim(pt, yte, n_splits):
                    r["dataset"] = name
                    conf_rows.append(r)
                    print(
                        f"  {r['score']:4s} cc={r['class_conditional']!s:5s} nominal "
                        f"{r['nominal']:.2f} coverage {r['coverage_mean']:.4f} size "
                        f"{r['mean_set_size']:.2f}",
                        flush=True,
                    )
    import sklearn
    import torch

    import truelabel

    out = {
        "benchmark": "calibrate",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python benchmarks/bench_calibrate.py" + (" --quick" if args.quick else ""),
        "settings": {
            "featurizer": "minilm",
            "model": "RobustMLPClassifier(hidden 256, 10 epochs)",
            "ece_bins": 15,
            "conformal_splits": n_splits,
            "conformal_split": "test set halves: calibration / evaluation",
        },
        "machine": "2 CPU cores shared with ~8 other agents' jobs",
        "versions": {
            "truelabel": truelabel.__version__,
            "torch": torch.__version__,
            "scikit-learn": sklearn.__version__,
            "python": platform.python_version(),
        },
        "calibration": cal_rows,
        "conformal": conf_rows,
        "runtime_s": round(time.time() - t0, 1),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
