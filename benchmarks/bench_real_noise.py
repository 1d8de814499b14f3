"""The audit on real noise: label errors made by people and by models, with the truth known.

The data sets (``_real_noise.py``; all from ``../shared/datasets``):

- probabilities given: CIFAR-10 and MNIST test sets (the release's out-of-sample
  probabilities, MTurk-confirmed errors), ChaosNLI-SNLI (original SNLI label vs the
  majority of 100 new votes; RoBERTa probabilities, out of sample);
- human noise with text: Snow et al. RTE (one worker's answer; separately the majority of
  3 workers), CrowdFlower 20 Newsgroups (one worker), Amazon reviews (one worker), and
  ChaosNLI-SNLI's text;
- model noise with text: six llms_for_css tasks labelled by flan-t5-xl (zero-shot).

For every set and mode — **given** (``audit(..., pred_probs=...)``) and **text**
(``audit(df, text=..., label=...)`` from the raw text) — the default audit runs as a user
would run it (the Python API the CLI calls; features cold: an empty feature cache, the
models already on disk) and is scored against the true errors: average precision (AP) of
``label_quality``, precision/recall of ``is_label_issue``, |estimated − true noise rate|,
ECE of the reported probabilities against the true labels, wall time. cleanlab 2.9 runs on
the same probabilities in the same process.

Defaults are then chosen by **leave-one-dataset-out** (LODO): for each option (neighbour
weight, scoring method, featurizer policy, filter, calibration), each data set (group) is
held out in turn, the option with the best mean score on the other sets is picked, and its
score on the held-out set is recorded. The grid uses the same cross-fitted probabilities
the audit computes (same folds), so the grid's ``auto`` row equals the default run.

Secondary checks (never the evidence for a default): 20 Newsgroups train (11,314 long
posts) with 20% pair flips; and a speed test of the given-probabilities path on 25,000
long texts.

    .venv/bin/python benchmarks/bench_real_noise.py                 # everything
    .venv/bin/python benchmarks/bench_real_noise.py --sets css_emotion,rte_1worker
    .venv/bin/python benchmarks/bench_real_noise.py --speed-only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from _common import RESULTS, machine, prf, write_results
from _real_noise import LOADERS, PROGRAMMATIC, SECONDARY, NoisySet

SEED = 0
FEATURIZERS = ("tfidf", "static", "minilm")
NEIGHBOR_WEIGHTS = (0.0, 0.1, 0.25, 0.5)
FILTERS = ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning")
#: the audit's default before this suite (issue 12): MiniLM + logistic, neighbour weight 0.5
OLD_DEFAULT = ("minilm+logistic", 0.5)


def ap(err: np.ndarray, quality: np.ndarray) -> float:
    """Average precision of ranking by ascending quality against the true errors."""
    ok = ~np.isnan(quality)
    return round(float(average_precision_score(err[ok], -quality[ok])), 4)


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


@contextmanager
def cold_features() -> Iterator[None]:
    """An empty feature cache (models kept): a user's first run on new data."""
    from truelabel.featurize import cache_dir

    home = cache_dir()
    old = os.environ.get("TRUELABEL_CACHE_DIR")
    tmp = Path(tempfile.mkdtemp(prefix="tl-cold-"))
    if (home / "models").is_dir():
        (tmp / "models").symlink_to((home / "models").resolve())
    os.environ["TRUELABEL_CACHE_DIR"] = str(tmp)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TRUELABEL_CACHE_DIR", None)
        else:
            os.environ["TRUELABEL_CACHE_DIR"] = old
        shutil.rmtree(tmp, ignore_errors=True)


def score_result(s: NoisySet, res: Any, seconds: float) -> dict[str, Any]:
    """Scores of an AuditResult against the truth (rows back in input order)."""
    from truelabel.calibrate import expected_calibration_error

    iss = res.issues.set_index("item_id").loc[np.arange(s.n)]
    q = iss["label_quality"].to_numpy(dtype=np.float64)
    flags = iss["is_label_issue"].to_numpy()
    err = s.errors
    # the audit's classes are the given labels' values; a true class nobody gave (e.g. a
    # class an LLM never answered) cannot be scored by ECE: those rows are left out of it
    pos = {str(c): i for i, c in enumerate(res.classes)}
    truth = np.asarray([pos.get(s.classes[t], -1) for t in s.truth])
    known = truth >= 0
    probs = np.asarray(res.pred_probs, np.float32)[known]
    out = {
        "ap": ap(err, q),
        **prf(flags, err),
        "noise_rate_est": round(float(res.summary["noise_rate"]), 4),
        "noise_rate_true": round(float(err.mean()), 4),
        "noise_rate_abs_err": round(abs(float(res.summary["noise_rate"]) - float(err.mean())), 4),
        "ece_vs_truth": round(expected_calibration_error(probs, truth[known]), 4),
        "seconds": round(seconds, 2),
        "load_avg": load_avg(),
        "featurizer": res.summary["settings"].get("featurizer"),
        "neighbor_weight": res.summary["settings"].get("neighbor_weight"),
        "filter_by": res.summary["settings"].get("filter_by"),
    }
    if "model_selection" in res.summary:
        out["model_selection"] = res.summary["model_selection"]
    return out


def frame(s: NoisySet) -> pd.DataFrame:
    cols: dict[str, Any] = {"label": np.asarray(s.classes, dtype=object)[s.given]}
    if s.texts is not None:
        cols["text"] = s.texts
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- cleanlab


def cleanlab_scores(s: NoisySet, probs: np.ndarray) -> dict[str, Any]:
    import cleanlab
    import cleanlab.count as cl_count
    import cleanlab.filter as cl_filter
    import cleanlab.rank as cl_rank

    err = s.errors
    out: dict[str, Any] = {"version": cleanlab.__version__, "ap": {}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in ("self_confidence", "normalized_margin", "confidence_weighted_entropy"):
            q = cl_rank.get_label_quality_scores(s.given, probs, method=m)
            out["ap"][m] = ap(err, np.asarray(q, dtype=np.float64))
        t0 = time.perf_counter()
        flags = cl_filter.find_label_issues(s.given, probs, n_jobs=1)
        out["find_label_issues_seconds"] = round(time.perf_counter() - t0, 3)
        n_issues = cl_count.num_label_issues(s.given, probs)
    out["flags"] = prf(np.asarray(flags), err)
    out["noise_rate_abs_err"] = round(abs(n_issues / s.n - float(err.mean())), 4)
    out["best_ap"] = max(out["ap"].values())
    out["best_ranking"] = max(out["ap"], key=lambda k: out["ap"][k])
    return out


# --------------------------------------------------------------------------- given probabilities


def run_given(s: NoisySet) -> dict[str, Any]:
    """Default audit with the set's own probabilities, cleanlab on the same, and the grid."""
    import truelabel
    from truelabel.audit import (
        LABEL_QUALITY_METHODS,
        find_label_issues,
        get_label_quality,
        nearest_neighbors,
    )

    assert s.pred_probs is not None
    df = frame(s)
    with cold_features():
        t0 = time.perf_counter()
        res = truelabel.audit(
            df, text="text" if s.texts else None, label="label", pred_probs=s.pred_probs
        )
        secs = time.perf_counter() - t0
    row: dict[str, Any] = {
        "n": s.n,
        "k": len(s.classes),
        "noise": s.noise,
        "prob_source": s.prob_source,
        "default": score_result(s, res, secs),
        "cleanlab": cleanlab_scores(s, s.pred_probs),
    }
    err = s.errors
    row["filters"] = {
        fb: prf(find_label_issues(s.given, s.pred_probs, filter_by=fb), err) for fb in FILTERS
    }
    grid: dict[str, float] = {}
    for m in LABEL_QUALITY_METHODS:
        grid[f"method={m}"] = ap(err, get_label_quality(s.given, s.pred_probs, method=m))
    if s.texts is not None:
        from truelabel.featurize import featurize

        for f in FEATURIZERS:
            knn, _ = nearest_neighbors(featurize(s.texts, f), k=10, random_state=SEED)
            for w in NEIGHBOR_WEIGHTS[1:]:
                q = get_label_quality(s.given, s.pred_probs, knn_indices=knn, neighbor_weight=w)
                grid[f"neighbors={f},w={w}"] = ap(err, q)
        grid.update(own_model_blend(s))
    row["grid"] = grid
    return row


def own_model_blend(s: NoisySet) -> dict[str, float]:
    """Stretch: stack the given probabilities with truelabel's own cross-fitted text model,
    the weight chosen by cross-fitted log-loss against the given labels."""
    from truelabel.audit import get_label_quality
    from truelabel.crossfit import combine_probabilities

    assert s.pred_probs is not None
    own = text_candidates(s)
    auto = combine_probabilities([own[c] for c in AUTO_NAMES], s.given).pred_probs
    comb = combine_probabilities([s.pred_probs, auto], s.given)
    return {
        "own_model_blend": ap(s.errors, get_label_quality(s.given, comb.pred_probs)),
        "own_model_blend_weight": round(float(comb.weights[1]), 3),
        "own_model_alone": ap(s.errors, get_label_quality(s.given, auto)),
    }


# --------------------------------------------------------------------------- raw text

AUTO_NAMES = ("tfidf+logistic", "static+logistic", "minilm+logistic")
_CANDIDATE_CACHE: dict[str, dict[str, np.ndarray]] = {}
_KNN_CACHE: dict[tuple[str, str], np.ndarray] = {}


def _cache_file(s: NoisySet, cand: str) -> Path:
    from truelabel.featurize import cache_dir

    key = f"{s.name}-{cand}-seed{SEED}-{int(s.given.sum())}-{s.n}"
    return cache_dir() / "bench_real_noise" / f"{key}.npy"


def text_candidates(s: NoisySet) -> dict[str, np.ndarray]:
    """Cross-fitted probabilities of every fixed candidate, as the audit computes them."""
    from truelabel.crossfit import cross_val_predict_proba
    from truelabel.featurize import featurize

    if s.name in _CANDIDATE_CACHE:
        return _CANDIDATE_CACHE[s.name]
    assert s.texts is not None
    out: dict[str, np.ndarray] = {}
    for f in FEATURIZERS:
        for em in ("logistic",) if f == "tfidf" else ("logistic", "ridge"):
            path = _cache_file(s, f"{f}+{em}")
            if path.exists():
                out[f"{f}+{em}"] = np.load(path)
                continue
            X = featurize(s.texts, f)
            p = cross_val_predict_proba(
                X, s.given, n_classes=len(s.classes), estimator=em, random_state=SEED
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, p)
            out[f"{f}+{em}"] = p
    _CANDIDATE_CACHE[s.name] = out
    return out


def knn_of(s: NoisySet, featurizer: str) -> np.ndarray:
    from truelabel.audit import nearest_neighbors
    from truelabel.featurize import featurize

    key = (s.name, featurizer)
    if key not in _KNN_CACHE:
        assert s.texts is not None
        _KNN_CACHE[key] = nearest_neighbors(featurize(s.texts, featurizer), k=30)[0]
    return _KNN_CACHE[key]  # 30 per item: the audit's search for choosing the weight


def run_text(s: NoisySet) -> dict[str, Any]:
    """Default audit from the raw text, the old default, cleanlab, and the grid."""
    import truelabel
    from truelabel.audit import choose_neighbor_weight, find_label_issues, get_label_quality
    from truelabel.calibrate import calibrate_probs, expected_calibration_error
    from truelabel.crossfit import combine_probabilities, fold_ids

    df = frame(s)
    with cold_features():
        t0 = time.perf_counter()
        res = truelabel.audit(df, text="text", label="label", seed=SEED)
        secs = time.perf_counter() - t0
    row: dict[str, Any] = {
        "n": s.n,
        "k": len(s.classes),
        "noise": s.noise,
        "default": score_result(s, res, secs),
    }
    err, y = s.errors, s.given
    cands = text_candidates(s)
    comb = combine_probabilities([cands[c] for c in AUTO_NAMES], y)
    policies = {name: p for name, p in cands.items()}
    policies["auto"] = comb.pred_probs
    policies["equal3"] = sum(cands[c] for c in AUTO_NAMES) / len(AUTO_NAMES)
    best_feat = AUTO_NAMES[int(np.argmax(comb.weights))].split("+")[0]
    grid_ap: dict[str, float] = {}
    folds = fold_ids(y, 5, SEED)
    chosen_w: dict[str, float] = {}
    for name, p in policies.items():
        feat = best_feat if name == "auto" else "static" if name == "equal3" else name.split("+")[0]
        knn30 = knn_of(s, feat)
        for w in NEIGHBOR_WEIGHTS:
            knn = knn30[:, :10] if w > 0 else None
            q = get_label_quality(y, p, knn_indices=knn, neighbor_weight=w)
            grid_ap[f"{name},w={w}"] = ap(err, q)
        # the audit's rule: the weight chosen on the data (same-fold neighbour log-loss)
        w_data, _ = choose_neighbor_weight(y, p, knn30, folds)
        chosen_w[name] = w_data
        grid_ap[f"{name},w=data"] = grid_ap[f"{name},w={w_data}"]
    row["grid_ap"] = grid_ap
    row["neighbor_weight_chosen"] = chosen_w
    row["auto_weights"] = dict(zip(AUTO_NAMES, np.round(comb.weights, 3).tolist(), strict=True))
    row["candidate_log_loss"] = dict(
        zip(AUTO_NAMES, np.round(comb.log_losses, 4).tolist(), strict=True)
    )
    row["old_default_ap"] = grid_ap[f"{OLD_DEFAULT[0]},w={OLD_DEFAULT[1]}"]
    row["auto_ap"] = grid_ap["auto,w=data"]  # what the default does with every candidate run
    row["cleanlab"] = cleanlab_scores(s, comb.pred_probs)
    row["filters"] = {
        fb: prf(find_label_issues(y, comb.pred_probs, filter_by=fb), err) for fb in FILTERS
    }
    cal, _ = calibrate_probs(
        comb.pred_probs,
        y,
        noise_matrix=truelabel.audit.estimate_noise_matrices(y, comb.pred_probs).noise_matrix,
    )
    plain, _ = calibrate_probs(comb.pred_probs, y)
    row["ece_vs_truth"] = {
        "stacked (uncalibrated)": round(expected_calibration_error(comb.pred_probs, s.truth), 4),
        "plain temperature": round(expected_calibration_error(plain, s.truth), 4),
        "noise-aware temperature": round(expected_calibration_error(cal, s.truth), 4),
    }
    return row


# --------------------------------------------------------------------------- LODO


def lodo(
    scores: dict[str, dict[str, float]],
    groups: dict[str, str],
    options: list[str],
    incumbent: str | None = None,
) -> dict[str, Any]:
    """Leave-one-dataset-out choice of an option (higher score = better).

    For each group, the option with the best mean score over the sets of the *other*
    groups is chosen (ties: the earlier option in ``options``) and scored on the held-out
    sets; ``lodo_mean`` averages those held-out scores: what choosing by the suite is worth
    on a data set it has not seen. ``best_on_all`` is the choice on all sets.

    The decision: ``best_on_all`` replaces the ``incumbent`` (the simplest option, or the
    previous default) only when choosing beats keeping it on held-out data, i.e.
    ``lodo_mean`` > the incumbent's mean; otherwise the incumbent stays.
    """

    def pick(sets: list[str]) -> str:
        means = [np.mean([scores[x][o] for x in sets]) for o in options]
        return options[int(np.argmax(np.round(means, 6)))]

    sets = list(scores)
    folds = {}
    for g in sorted(set(groups[x] for x in sets)):
        train = [x for x in sets if groups[x] != g]
        test = [x for x in sets if groups[x] == g]
        if not train:
            continue
        choice = pick(train)
        folds[g] = {
            "chosen": choice,
            "held_out": {x: scores[x][choice] for x in test},
            "best_on_held_out": {x: max(scores[x].values()) for x in test},
        }
    held = [v for f in folds.values() for v in f["held_out"].values()]
    mean_by = {o: round(float(np.mean([scores[x][o] for x in sets])), 4) for o in options}
    lodo_mean = round(float(np.mean(held)), 4) if held else None
    best = pick(sets)
    final = best
    if incumbent is not None and lodo_mean is not None and lodo_mean <= mean_by[incumbent]:
        final = incumbent
    return {
        "options": options,
        "incumbent": incumbent,
        "best_on_all": best,
        "final": final,
        "folds": folds,
        "lodo_mean": lodo_mean,
        "incumbent_mean": None if incumbent is None else mean_by[incumbent],
        "mean_by_option": mean_by,
        "n_sets": len(sets),
    }


def selections(given: dict[str, Any], text: dict[str, Any], groups: dict[str, str]) -> dict:
    out: dict[str, Any] = {}
    # text mode: featurizer policy x neighbour weight (AP)
    if text:
        opts = list(next(iter(text.values()))["grid_ap"])
        out["text: model and neighbour weight (AP)"] = lodo(
            {k: v["grid_ap"] for k, v in text.items()},
            groups,
            opts,
            incumbent=f"{OLD_DEFAULT[0]},w={OLD_DEFAULT[1]}",
        )
        w_opts = [f"w={w}" for w in NEIGHBOR_WEIGHTS] + ["w=data"]
        out["text: neighbour weight with auto, fixed weights and the data rule (AP)"] = lodo(
            {k: {o: v["grid_ap"][f"auto,{o}"] for o in w_opts} for k, v in text.items()},
            groups,
            w_opts,
            incumbent="w=0.0",
        )
        # the question the default answers: neighbours never, or as the user's data says
        # (choose_neighbor_weight; an adaptive rule, nothing in it is fitted on the suite)
        out["text: neighbours in the score, never vs chosen on the data (AP)"] = lodo(
            {
                k: {o: v["grid_ap"][f"auto,{o}"] for o in ("w=0.0", "w=data")}
                for k, v in text.items()
            },
            groups,
            ["w=0.0", "w=data"],
            incumbent="w=0.0",
        )
        p_opts = [*AUTO_NAMES, "static+ridge", "minilm+ridge", "equal3", "auto"]
        out["text: model, neighbour weight chosen on the data (AP)"] = lodo(
            {k: {o: v["grid_ap"][f"{o},w=data"] for o in p_opts} for k, v in text.items()},
            groups,
            p_opts,
            incumbent="minilm+logistic",
        )
        out["text: filter (F1)"] = lodo(
            {k: {f: v["filters"][f]["f1"] for f in FILTERS} for k, v in text.items()},
            groups,
            list(FILTERS),
            incumbent="prune_by_noise_rate",
        )
        c_opts = ["noise-aware temperature", "plain temperature", "stacked (uncalibrated)"]
        out["text: reported probabilities (-ECE)"] = lodo(
            {k: {o: -v["ece_vs_truth"][o] for o in c_opts} for k, v in text.items()},
            groups,
            c_opts,
            incumbent="noise-aware temperature",
        )
    if given:
        g_opts = [o for o in next(iter(given.values()))["grid"] if o.startswith("method=")]
        out["given: scoring method (AP)"] = lodo(
            {k: {o: v["grid"][o] for o in g_opts} for k, v in given.items()},
            groups,
            g_opts,
            incumbent="method=normalized_margin",
        )
        out["given: filter (F1)"] = lodo(
            {k: {f: v["filters"][f]["f1"] for f in FILTERS} for k, v in given.items()},
            groups,
            list(FILTERS),
            incumbent="prune_by_noise_rate",
        )
    return out


# --------------------------------------------------------------------------- speed


def speed_25k() -> dict[str, Any]:
    """The given-probabilities path on 25,000 long texts, CLI defaults (wall time), and the
    same with ``--text-checks`` (the opt-in embedding, neighbours, outliers, duplicates)."""
    import subprocess
    import sys

    from _common import load_text_dataset

    texts, y, classes = load_text_dataset("20news")
    rng = np.random.default_rng(SEED)
    n = 25_000
    a, b = rng.integers(0, len(texts), n), rng.integers(0, len(texts), n)
    # unique long texts: the first half of one post + the second half of another
    long_texts = [
        texts[i][: len(texts[i]) // 2] + texts[j][len(texts[j]) // 2 :]
        for i, j in zip(a, b, strict=True)
    ]
    labels = np.asarray(classes, dtype=object)[y[a]]
    k = len(classes)
    probs = rng.dirichlet(np.full(k, 0.3), size=n).astype(np.float32)
    tmp = Path(tempfile.mkdtemp(prefix="tl-speed-"))
    out: dict[str, Any] = {
        "n": n,
        "mean_chars": round(float(np.mean([len(t) for t in long_texts]))),
        "target_s": 20,
        "note": "halves of two 20 Newsgroups posts per row; random Dirichlet probabilities",
    }
    try:
        pd.DataFrame({"text": long_texts, "label": labels}).to_csv(tmp / "data.csv", index=False)
        np.save(tmp / "probs.npy", probs)
        exe = Path(sys.executable).with_name("truelabel")
        base = [
            str(exe),
            "audit",
            str(tmp / "data.csv"),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--pred-probs",
            str(tmp / "probs.npy"),
        ]
        for name, extra in (("default", []), ("text_checks", ["--text-checks"])):
            before = load_avg()
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            with cold_features():
                subprocess.run(
                    [*base, *extra, "--out", str(tmp / name)], check=True, capture_output=True
                )
            wall = time.perf_counter() - t0
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            summary = json.loads((tmp / name / "summary.json").read_text())
            out[name] = {
                "cli_wall_s": round(wall, 2),
                # CPU seconds of the CLI process (user + system): what the run costs when
                # the machine is shared, where wall time waits for a core
                "cli_cpu_s": round(
                    cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime, 2
                ),
                "stage_s": summary["timings_s"],
                "load_avg_before": before,
                "load_avg_after": load_avg(),
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["met"] = out["default"]["cli_wall_s"] < 20
    return out


# --------------------------------------------------------------------------- printing


def targets(payload: dict[str, Any]) -> dict[str, Any]:
    """Issue 12's targets 3 and 4, checked on the run's numbers (met / missed, with the margin)."""
    out: dict[str, Any] = {}
    given, text = payload.get("given", {}), payload.get("text", {})
    if given:
        per = {
            k: {"ap": v["default"]["ap"], "cleanlab_best": v["cleanlab"]["best_ap"]}
            for k, v in given.items()
        }
        out["3: given, AP >= cleanlab's best ranking on every set"] = {
            "per_set": per,
            "met": all(r["ap"] >= r["cleanlab_best"] - 1e-4 for r in per.values()),
        }
        blend = {
            k: {
                "weight": v["grid"]["own_model_blend_weight"],
                "ap_given": v["default"]["ap"],
                "ap_blend": v["grid"]["own_model_blend"],
            }
            for k, v in given.items()
            if "own_model_blend_weight" in v["grid"]
        }
        if blend:
            out["3 stretch: --own-model beats cleanlab on the same probabilities"] = {
                "per_set": blend,
                "met": any(
                    r["weight"] > 0 and r["ap_blend"] > per[k]["cleanlab_best"]
                    for k, r in blend.items()
                ),
            }
    speed = payload.get("speed_25k_given_probs")
    if speed:
        out["3: 25,000 long texts with --pred-probs under 20 s"] = {
            "cli_wall_s": speed["default"]["cli_wall_s"],
            "cli_cpu_s": speed["default"].get("cli_cpu_s"),
            "load_avg_before": speed["default"]["load_avg_before"],
            "met": speed["default"]["cli_wall_s"] < 20,
        }
    suite = {k: v for k, v in text.items() if k not in PROGRAMMATIC}
    if suite:
        per_t: dict[str, Any] = {}
        for k, v in suite.items():
            fixed = {
                o.split(",")[0]: a
                for o, a in v["grid_ap"].items()
                if o.endswith("w=data") and o.split(",")[0] not in ("auto", "equal3")
            }
            best = max(fixed, key=lambda o: fixed[o])
            per_t[k] = {
                "default_run": v["default"]["ap"],
                "auto_all_candidates": v["auto_ap"],
                "best_fixed": best,
                "best_fixed_ap": fixed[best],
                "old_default": v["old_default_ap"],
                "met": v["default"]["ap"] >= fixed[best] - 0.01,
            }
        mean_default = float(np.mean([r["default_run"] for r in per_t.values()]))
        mean_old = float(np.mean([r["old_default"] for r in per_t.values()]))
        out["4: raw text, auto >= best fixed choice - 0.01 AP on every set"] = {
            "per_set": per_t,
            "n_met": sum(r["met"] for r in per_t.values()),
            "n_sets": len(per_t),
            "met": all(r["met"] for r in per_t.values()),
        }
        out["4: raw text, mean AP >= old default + 0.10"] = {
            "mean_default_run": round(mean_default, 4),
            "mean_old_default": round(mean_old, 4),
            "gain": round(mean_default - mean_old, 4),
            "met": mean_default >= mean_old + 0.10,
        }
    return out


def print_tables(payload: dict[str, Any]) -> None:
    given, text = payload["given"], payload["text"]
    if given:
        print("\n## given probabilities: default audit vs cleanlab on the same probabilities")
        print(
            "| set | n | AP | cleanlab best AP (method) | P / R | cleanlab P / R | |noise err| | s |"
        )
        print("|---|---:|---:|---:|---|---|---:|---:|")
        for name, r in given.items():
            d, c = r["default"], r["cleanlab"]
            print(
                f"| {name} | {r['n']} | {d['ap']:.3f} | {c['best_ap']:.3f} ({c['best_ranking']}) | "
                f"{d['precision']:.3f} / {d['recall']:.3f} | {c['flags']['precision']:.3f} / "
                f"{c['flags']['recall']:.3f} | {d['noise_rate_abs_err']:.3f} | {d['seconds']:.1f} |"
            )
    if text:
        print("\n## raw text: default audit (auto) vs fixed choices and the old default")
        print(
            "| set | n | noise | AP default run | AP auto, all candidates | best fixed (AP) "
            "| old default | P / R | |noise err| | ECE | s | default run's model |"
        )
        print("|---|---:|---:|---:|---:|---|---:|---|---:|---:|---:|---|")
        for name, r in text.items():
            d = r["default"]
            fixed = {
                k: v
                for k, v in r["grid_ap"].items()
                if k.endswith("w=data") and k.split(",")[0] not in ("auto", "equal3")
            }
            bf = max(fixed, key=lambda k: fixed[k])
            print(
                f"| {name} | {r['n']} | {d['noise_rate_true']:.3f} | {d['ap']:.3f} | "
                f"{r['auto_ap']:.3f} | {bf.split(',')[0]} ({fixed[bf]:.3f}) | "
                f"{r['old_default_ap']:.3f} | {d['precision']:.3f} / {d['recall']:.3f} | "
                f"{d['noise_rate_abs_err']:.3f} | {d['ece_vs_truth']:.3f} | {d['seconds']:.1f} | "
                f"{d['featurizer']}, w={d.get('neighbor_weight')} |"
            )
    print("\n## LODO selection of each default")
    print("| default | best on all sets | LODO mean (held out) | incumbent (mean) | shipped |")
    print("|---|---|---:|---|---|")
    for name, sel in payload.get("selection", {}).items():
        print(
            f"| {name} | {sel['best_on_all']} | {sel['lodo_mean']} | {sel['incumbent']} "
            f"({sel['incumbent_mean']}) | {sel['final']} |"
        )
    for name, sel in payload.get("selection", {}).items():
        print(f"\n{name}: per held-out group, the choice of the other groups -> its score")
        for g, f in sel["folds"].items():
            print(f"  leave out {g}: chosen {f['chosen']} -> {f['held_out']}")
    print("\n## targets")
    for name, t in payload.get("targets", {}).items():
        print(f"- {name}: {'met' if t['met'] else 'MISSED'}: {json.dumps(t, default=str)}")


def main() -> None:
    ap_ = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap_.add_argument(
        "--sets", default=",".join([*LOADERS, *PROGRAMMATIC]), help="comma-separated set names"
    )
    ap_.add_argument("--no-secondary", action="store_true")
    ap_.add_argument("--no-speed", action="store_true")
    ap_.add_argument("--speed-only", action="store_true")
    ap_.add_argument("--out", default="real_noise")
    ap_.add_argument(
        "--resume", action="store_true", help="reuse the sets finished by an interrupted run"
    )
    ap_.add_argument(
        "--tables",
        action="store_true",
        help="recompute the selection and targets of results/<out>.json and print its tables",
    )
    ap_.add_argument(
        "--speed-from",
        default="",
        help="take the speed test from results/<name>.json (a --speed-only run) instead",
    )
    args = ap_.parse_args()
    if args.tables:
        # selection and targets are recomputed from the stored per-set scores (no set re-run)
        stored = json.loads((RESULTS / f"{args.out}.json").read_text())
        suite_text = {k: v for k, v in stored["text"].items() if k not in PROGRAMMATIC}
        stored["selection"] = selections(stored["given"], suite_text, stored["groups"])
        if args.speed_from:
            speed_file = json.loads((RESULTS / f"{args.speed_from}.json").read_text())
            stored["speed_25k_given_probs"] = speed_file["speed_25k_given_probs"]
        stored["targets"] = targets(stored)
        write_results(args.out, stored)
        print_tables(stored)
        return
    payload: dict[str, Any] = {"machine": machine(), "load_avg_start": load_avg()}
    partial = RESULTS / f"{args.out}.partial.json"
    done: dict[str, Any] = (
        json.loads(partial.read_text()) if args.resume and partial.exists() else {}
    )
    if not args.speed_only:
        every = {**LOADERS, **PROGRAMMATIC}
        loaders: dict[str, Callable[[], NoisySet]] = {
            k: every[k] for k in args.sets.split(",") if k
        }
        given: dict[str, Any] = {}
        text: dict[str, Any] = {}
        groups: dict[str, str] = {}
        sets: dict[str, Any] = {}
        for name, load in loaders.items():
            s = load()
            groups[name] = s.group
            sets[name] = {"n": s.n, "noise": s.noise, "note": s.note, "group": s.group}
            if s.pred_probs is not None:
                given[name] = run_given(s)  # cheap: always recomputed
                print(
                    name, "given", json.dumps(given[name]["default"], default=str)[:300], flush=True
                )
            if s.texts is not None:
                text[name] = done.get("text", {}).get(name) or run_text(s)
                print(
                    name, "text", json.dumps(text[name]["default"], default=str)[:300], flush=True
                )
            partial.write_text(json.dumps({"given": given, "text": text}, default=float))
        payload.update(sets=sets, given=given, text=text, groups=groups)
        # the defaults are chosen on the issue's suite; the labeling-function sets are a
        # further check, and the same selection with them is reported beside it
        suite_text = {k: v for k, v in text.items() if k not in PROGRAMMATIC}
        payload["selection"] = selections(given, suite_text, groups)
        if len(suite_text) < len(text):
            payload["selection_with_programmatic"] = selections({}, text, groups)
        if not args.no_secondary:
            secondary = {}
            for name, load in SECONDARY.items():
                s = load()
                secondary[name] = run_text(s)
                print(
                    name,
                    "text",
                    json.dumps(secondary[name]["default"], default=str)[:300],
                    flush=True,
                )
            payload["secondary"] = secondary
    if args.speed_from:
        speed_file = json.loads((RESULTS / f"{args.speed_from}.json").read_text())
        payload["speed_25k_given_probs"] = speed_file["speed_25k_given_probs"]
    elif not args.no_speed:
        payload["speed_25k_given_probs"] = speed_25k()
        print("speed", payload["speed_25k_given_probs"], flush=True)
    payload["load_avg_end"] = load_avg()
    if not args.speed_only:
        payload["targets"] = targets(payload)
    path = write_results(args.out, payload)
    partial.unlink(missing_ok=True)
    if not args.speed_only:
        print_tables(payload)
        for name, sel in payload.get("selection_with_programmatic", {}).items():
            print(
                f"\n## with the labeling-function sets: {name}: best on all = "
                f"{sel['best_on_all']}, LODO {sel['lodo_mean']} vs incumbent "
                f"{sel['incumbent']} {sel['incumbent_mean']} -> {sel['final']}"
            )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
