"""Training under label noise stays honest (issue 12, item 5).

``truelabel train`` with default options, trained on noisy labels and scored against the
*true* labels of test items it never saw: accuracy, top-label ECE (15 bins), coverage and
size of the 90% and 95% conformal sets, and how the noise matrix that confident learning
estimates compares with the true one.

Data (``../shared/datasets``):

- real noise, text (the loaders of ``_real_noise.py``, shared with ``bench_real_noise.py``):
  RTE with one MTurk worker's answer, CrowdFlower 20 Newsgroups with one worker's label,
  Amazon reviews with one worker's "negative?" answer, ChaosNLI-SNLI's original labels,
  and six llms_for_css tasks labelled by flan-t5-xl. Each is split into 5 stratified
  outer folds: every item is a test item once, for a model trained on the other 80%
  (given labels), and the metrics pool the 5 test folds.
- injected noise (a secondary check): SST-2, AG News, Banking77, TREC-6 and the long
  20 Newsgroups posts with 20% symmetric and 20% pair flips (a fixed derangement of the
  classes, ``_common.inject_noise``) of the training labels; one train/test split each.

Every run has, next to the candidate configurations, the same run's baselines: the
previous default (CE, temperature and conformal thresholds fitted on the given labels as
if they were true, 20% holdout) and the clean-label ceiling (the default trained on the
true labels of the same training rows).

The grid (training configurations x post-hoc calibration) feeds a leave-one-dataset-out
selection: for each group of data sets, the configuration with the lowest mean loss on the
*other* groups is applied to it (see ``selection_loss``). The defaults of ``train`` are
the configuration with the lowest loss over all groups; the ``default`` rows then run
``truelabel.learn.train_model`` with no options -- the CLI's code path -- and must
reproduce the grid's numbers for that configuration.

    .venv/bin/python benchmarks/bench_train_noise.py                     # grid + default
    .venv/bin/python benchmarks/bench_train_noise.py --sets rte_1worker --configs minilm/ce
    .venv/bin/python benchmarks/bench_train_noise.py --report           # tables from JSON

Results: ``benchmarks/results/train_noise.json`` (the grid is checkpointed in
``train_noise.partial.json`` and resumed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import RESULTS, inject_noise, load_text_dataset, machine, write_results  # noqa: E402

PARTIAL = RESULTS / "train_noise.partial.json"
ALPHAS = (0.1, 0.05)
OUTER_FOLDS = 5
REAL = [
    "rte_1worker",
    "cf20ng_1worker",
    "amazon_negative_1worker",
    "chaosnli_snli",
    "css_discourse",
    "css_emotion",
    "css_implicit_hate",
    "css_raop",
    "css_semeval_stance",
    "css_wiki_politeness",
]
INJECTED = ["sst2", "ag_news", "banking77", "trec", "20news"]
NOISE_KINDS = ("symmetric", "pair")
RATE = 0.2
#: post-hoc variants: (label_noise, noise_scale, noise_correction)
POSTHOC = [("none", 0.0, "invert")] + [
    ("estimate", scale, corr)
    for scale in (1.0, "mle", "conservative", "anchored")
    for corr in ("invert", "posterior")
]


def _key(label_noise: str, scale: float | str, corr: str) -> str:
    return "none" if label_noise == "none" else f"{scale}/{corr}"


# ---------------------------------------------------------------------------- data
@dataclass
class Setting:
    """One data set with noisy training labels and true test labels.

    ``folds`` are (train rows, test rows) into ``texts``; ``given`` holds the labels a
    model is trained on (noisy), ``truth`` the true labels (class names).
    """

    name: str
    group: str
    kind: str  # "real" or "injected"
    texts: list[str]
    given: np.ndarray  # (N,) str
    truth: np.ndarray  # (N,) str
    folds: list[tuple[np.ndarray, np.ndarray]]
    note: str = ""


def _outer_folds(labels: np.ndarray, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes rarer than 5 items: sklearn warns
        skf = StratifiedKFold(n_splits=OUTER_FOLDS, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in skf.split(np.zeros(len(labels)), labels)]


def real_setting(name: str) -> Setting:
    import _real_noise

    s = _real_noise.LOADERS[name]()
    assert s.texts is not None
    cls = np.asarray(s.classes, dtype=object)
    return Setting(
        name=name,
        group=s.group,
        kind="real",
        texts=[str(t) for t in s.texts],
        given=cls[s.given].astype(str),
        truth=cls[s.truth].astype(str),
        folds=_outer_folds(s.given),
        note=s.note,
    )


def _injected_base(name: str) -> tuple[list[str], np.ndarray, list[str], np.ndarray, np.ndarray]:
    """(texts, labels, class names, train rows, test rows) of a clean text data set."""
    rng = np.random.default_rng(0)
    if name in ("sst2", "ag_news", "banking77"):
        from bench_learn import load_text_tasks

        t = load_text_tasks()[name]
        texts = [str(x) for x in t["train_text"]] + [str(x) for x in t["test_text"]]
        y = np.concatenate([t["train_y"], t["test_y"]]).astype(np.int64)
        n_tr = len(t["train_y"])
        names = [str(i) for i in range(int(t["k"]))]
        return texts, y, names, np.arange(n_tr), np.arange(n_tr, len(y))
    if name == "trec":
        # TREC_10.label is an easier test set than the training questions (a model
        # calibrated on the training set over-covers it by 5 points even with clean
        # labels), so the training file is split 75/25 for exchangeable test items
        from bench_zeroshot import load

        texts, y, names = load("dev_trec")
        perm = rng.permutation(len(y))
        cut = int(0.75 * len(y))
        return list(texts), np.asarray(y), list(names), np.sort(perm[:cut]), np.sort(perm[cut:])
    if name == "20news":
        texts, y, names = load_text_dataset("20news")
        perm = rng.permutation(len(y))
        cut = int(0.75 * len(y))
        return texts, np.asarray(y), list(names), np.sort(perm[:cut]), np.sort(perm[cut:])
    raise ValueError(name)


def injected_settings(name: str) -> list[Setting]:
    texts, y, names, tr, te = _injected_base(name)
    k = len(names)
    out = []
    kinds = ("symmetric",) if k == 2 else NOISE_KINDS  # pair flips = symmetric for 2 classes
    cls = np.asarray(names, dtype=object)
    for kind in kinds:
        noisy = y.copy()
        noisy[tr] = inject_noise(y[tr], k, RATE, kind, seed=1)
        out.append(
            Setting(
                name=f"{name}_{kind}{int(RATE * 100)}",
                group=name,
                kind="injected",
                texts=texts,
                given=cls[noisy].astype(str),
                truth=cls[y].astype(str),
                folds=[(tr, te)],
                note=f"{kind} flips of {RATE:.0%} of the training labels (seed 1)",
            )
        )
    return out


def load_settings(names: list[str]) -> list[Setting]:
    out: list[Setting] = []
    for n in names:
        if n in REAL:
            out.append(real_setting(n))
        else:
            base = n.split("_symmetric")[0].split("_pair")[0]
            out.extend(s for s in injected_settings(base) if n in (base, s.name))
    return out


# ---------------------------------------------------------------------------- metrics
def _codes(values: np.ndarray, classes: list[str]) -> np.ndarray:
    """Class codes of ``values`` in ``classes``; -1 for a class the model does not know."""
    idx = pd.Index(classes)
    return np.asarray(idx.get_indexer(pd.Index(values.astype(str))), dtype=np.int64)


def item_results(probs: np.ndarray, sets: dict[float, np.ndarray], truth: np.ndarray) -> dict:
    """Per-item confidence, correctness and set coverage/size against true codes (-1 =
    a class the model does not know: never correct, never covered)."""
    ok = truth >= 0
    out: dict[str, Any] = {
        "confidence": probs.max(axis=1).astype(np.float64),
        "correct": probs.argmax(axis=1) == truth,
    }
    for a, st in sets.items():
        cov = np.zeros(len(truth), dtype=bool)
        cov[ok] = st[np.flatnonzero(ok), truth[ok]]
        lvl = int(round((1 - a) * 100))
        out[f"covered_{lvl}"] = cov
        out[f"size_{lvl}"] = st.sum(axis=1)
    return out


def _ece(conf: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> float:
    """Top-label ECE from confidences and correctness, with the binning of
    ``truelabel.calibrate.expected_calibration_error`` (15 right-closed equal-width bins)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    gap = np.abs(
        np.bincount(idx, weights=correct.astype(np.float64), minlength=n_bins)
        - np.bincount(idx, weights=conf, minlength=n_bins)
    )
    return float(gap.sum() / max(count.sum(), 1))


def ece_floor(conf: np.ndarray, draws: int = 50, seed: int = 0) -> float:
    """Mean ECE of a perfectly calibrated model with these confidences on this many items
    (correctness drawn as Bernoulli(confidence)): the ECE that sampling alone produces."""
    rng = np.random.default_rng(seed)
    return float(np.mean([_ece(conf, rng.random(len(conf)) < conf) for _ in range(draws)]))


def pooled_metrics(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics over the pooled test items of all outer folds."""
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    conf, correct = cat["confidence"], cat["correct"]
    out: dict[str, Any] = {
        "n_test": int(len(conf)),
        "accuracy": float(correct.mean()),
        "ece": _ece(conf, correct),
        "ece_floor": ece_floor(conf),
        "mean_confidence": float(conf.mean()),
    }
    for lvl in (90, 95):
        out[f"coverage_{lvl}"] = float(cat[f"covered_{lvl}"].mean())
        out[f"set_size_{lvl}"] = float(cat[f"size_{lvl}"].mean())
    return out


def noise_matrix_error(
    est: np.ndarray | None, given: np.ndarray, truth: np.ndarray, k: int
) -> dict[str, Any]:
    """The estimated ``P(given | true)`` against the one the training rows really have.

    ``tv`` is the total-variation distance between estimated and true columns,
    ``0.5 * sum_i |N_est[i, j] - N_true[i, j]|``, averaged over true classes weighted by
    their share; ``rate`` the share of wrong labels, true vs estimated (``1 -
    sum_j prior_j N[j, j]`` with the true prior); ``max_entry_error`` the largest
    ``|N_est[i, j] - N_true[i, j]|``. Summary numbers only (no matrices: the results file
    stays small).
    """
    ok = truth >= 0
    g, t = given[ok], truth[ok]
    true_nm = np.zeros((k, k))
    np.add.at(true_nm, (g, t), 1.0)
    col = true_nm.sum(axis=0)
    prior = col / col.sum()
    true_nm = np.divide(true_nm, col, out=np.eye(k), where=col > 0)
    out: dict[str, Any] = {"true_rate": float(1.0 - (prior * np.diag(true_nm)).sum())}
    if est is None:
        return out
    tv = 0.5 * np.abs(est - true_nm).sum(axis=0)
    out.update(
        {
            "est_rate": float(1.0 - (prior * np.diag(est)).sum()),
            "tv": float((prior * tv).sum()),
            "max_entry_error": float(np.abs(est - true_nm).max()),
        }
    )
    return out


# ---------------------------------------------------------------------------- one run
def parse_config(cfg: str) -> dict[str, Any]:
    """``featurizer/loss[/es][/holdout]`` -> keyword arguments of ``fit_for_calibration``."""
    parts = cfg.split("/")
    kw: dict[str, Any] = {"featurizer": parts[0], "loss": parts[1], "early_stopping": False}
    kw["holdout"] = None
    for p in parts[2:]:
        if p == "es":
            kw["early_stopping"] = True
        elif p.startswith("holdout"):
            kw["holdout"] = float(p.removeprefix("holdout"))
        else:
            raise ValueError(cfg)
    return kw


_FEATURE_CACHE: dict[tuple[str, int, int], Any] = {}


def _features(featurizer: str, texts: list[str], rows: np.ndarray, test: np.ndarray) -> tuple:
    """Training features as ``train_model`` makes them, and the test features.

    TF-IDF is fitted on the training rows, as ``train_model`` does. Sentence embeddings
    do not depend on the other texts, so they are computed once for all texts of a data
    set (and cached on disk) and indexed.
    """
    from truelabel.featurize import featurize, get_featurizer
    from truelabel.learn._artifact import TrainedModel, _featurize_for_training

    key = (featurizer, hash(rows.tobytes()), len(texts))
    if key in _FEATURE_CACHE:
        return _FEATURE_CACHE[key]
    if featurizer == "tfidf":
        tr_texts = np.asarray(texts, dtype=object)[rows]
        X, spec, tfidf = _featurize_for_training(tr_texts, None, featurizer)
        probe = TrainedModel(
            classes=["a", "b"],
            featurizer=spec,
            weights=[{"W0": np.zeros((X.shape[1], 2), np.float32)}],
            temperature=1.0,
            conformal={},
            tfidf=tfidf,
        )
        Xte = probe.featurize([texts[i] for i in test])
    else:
        X_all = np.asarray(featurize(texts, method=featurizer), dtype=np.float32)
        X, Xte, tfidf = X_all[rows], X_all[test], None
        spec = {"name": featurizer, "model_id": get_featurizer(featurizer).model_id}
    _FEATURE_CACHE.clear()  # one featurizer/fold at a time keeps memory flat
    _FEATURE_CACHE[key] = (X, spec, tfidf, Xte)
    return _FEATURE_CACHE[key]


def run_fold(s: Setting, fold: int, cfg: str, labels: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Train one configuration on ``labels`` of the fold's training rows; every post-hoc
    variant's test metrics, and the noise-matrix comparison."""
    from truelabel.learn._artifact import TrainedModel
    from truelabel.learn._calibrated import calibrate_fit, fit_for_calibration

    kw = parse_config(cfg)
    tr, te = s.folds[fold]
    classes = sorted(set(labels[tr].tolist()))
    y = _codes(labels[tr], classes)
    targets = np.zeros((len(tr), len(classes)), dtype=np.float32)
    targets[np.arange(len(tr)), y] = 1.0
    X, spec, tfidf, Xte = _features(kw["featurizer"], s.texts, tr, te)
    t0 = time.time()
    fit = fit_for_calibration(
        X,
        targets,
        loss=kw["loss"],
        early_stopping=kw["early_stopping"],
        holdout=kw["holdout"],
        estimate_noise=True,
        random_state=seed,
    )
    fit_s = time.time() - t0
    truth_te = _codes(s.truth[te], classes)
    truth_tr = _codes(s.truth[tr], classes)
    out: dict[str, Any] = {"fit_seconds": round(fit_s, 1), "mode": fit.mode, "note": fit.note}
    for label_noise, scale, corr in POSTHOC:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal = calibrate_fit(
                fit.cal_probs,
                y[fit.cal_rows],
                noise_matrix=fit.noise_matrix if label_noise == "estimate" else None,
                noise_scale=scale,
                noise_correction=corr,
                alphas=ALPHAS,
            )
        tm = TrainedModel(
            classes=classes,
            featurizer=spec,
            weights=fit.weights,
            temperature=cal.temperature,
            conformal=cal.conformal,
            tfidf=tfidf,
        )
        p = tm.predict_proba(Xte)
        sets = {a: tm.predict_sets(p, alpha=a) for a in ALPHAS}
        used = cal.noise_matrix if cal.noise_matrix is not None else np.eye(len(classes))
        nz = noise_matrix_error(used, y, truth_tr, len(classes))
        out[_key(label_noise, scale, corr)] = {
            "items": item_results(p, sets, truth_te),
            "temperature": cal.temperature,
            "noise_scale": cal.noise_scale,
            "noise_rate_used": nz["est_rate"],
            "noise_tv_used": nz["tv"],
        }
    out["noise"] = noise_matrix_error(fit.noise_matrix, y, truth_tr, len(classes))
    return out


def run_setting(s: Setting, cfg: str, clean: bool) -> dict[str, Any]:
    """All outer folds of one configuration; pooled metrics per post-hoc variant."""
    labels = s.truth if clean else s.given
    folds = [run_fold(s, f, cfg, labels) for f in range(len(s.folds))]
    out: dict[str, Any] = {
        "fit_seconds": round(sum(f["fit_seconds"] for f in folds), 1),
        "modes": sorted({f["mode"] for f in folds}),
        "notes": sorted({f["note"] for f in folds if f["note"]}),
    }
    for variant in POSTHOC:
        key = _key(*variant)
        out[key] = pooled_metrics([f[key]["items"] for f in folds])
        out[key]["temperature"] = float(np.mean([f[key]["temperature"] for f in folds]))
        for k in ("noise_scale", "noise_rate_used", "noise_tv_used"):
            out[key][k] = float(np.mean([f[key][k] for f in folds]))
    nz = [f["noise"] for f in folds]
    out["noise"] = {
        k: float(np.mean([z.get(k, np.nan) for z in nz]))
        for k in ("true_rate", "est_rate", "tv", "max_entry_error")
    }
    return out


# ---------------------------------------------------------------------------- selection
def selection_loss(m: dict[str, Any], best_acc: float) -> float:
    """What a configuration costs on one data set (lower is better), fixed before any run.

    ECE in units of its target 0.03, each coverage's distance from its level in units of
    the allowed 1.5 points, and the accuracy below the best configuration on this data
    set in units of the allowed 2.5 points.
    """
    return (
        m["ece"] / 0.03
        + abs(m["coverage_90"] - 0.90) / 0.015
        + abs(m["coverage_95"] - 0.95) / 0.015
        + max(0.0, best_acc - m["accuracy"]) / 0.025
    )


def lodo(table: dict[tuple[str, str], dict[str, dict[str, Any]]], groups: dict[str, str]) -> dict:
    """Leave-one-group-out selection over ``table[(setting, slot)][candidate] -> metrics``.

    Every candidate present in all rows competes. For each group of data sets, the
    candidate with the lowest mean :func:`selection_loss` over the *other* groups (each
    group weighted equally, its rows averaged) is applied to the held-out group; the
    overall choice is the lowest mean over all groups.
    """
    rows = sorted(table)
    cands = sorted(set.intersection(*(set(table[r]) for r in rows)))
    best_acc = {r: max(table[r][c]["accuracy"] for c in cands) for r in rows}
    loss = {(r, c): selection_loss(table[r][c], best_acc[r]) for r in rows for c in cands}
    all_groups = sorted({groups[r[0]] for r in rows})

    def mean_loss(c: str, keep: list[str]) -> float:
        per_group = [np.mean([loss[(r, c)] for r in rows if groups[r[0]] == g]) for g in keep]
        return float(np.mean(per_group))

    chosen = {
        g: min(cands, key=lambda c: mean_loss(c, [h for h in all_groups if h != g]))
        for g in all_groups
    }
    ranking = sorted(cands, key=lambda c: mean_loss(c, all_groups))
    held_out = {
        f"{r[0]}|{r[1]}": {
            "choice": chosen[groups[r[0]]],
            **_summary(table[r][chosen[groups[r[0]]]], ("accuracy", "ece") + COVERAGE),
        }
        for r in rows
    }
    return {
        "candidates": cands,
        "per_group_choice": chosen,
        "overall": ranking[0],
        "ranking": [(c, round(mean_loss(c, all_groups), 3)) for c in ranking],
        "held_out": held_out,
    }


def select(grid: dict[str, dict[str, Any]], reference: str = "minilm/ce") -> dict[str, Any]:
    """The two-stage selection, fixed before the grid ran.

    1. Post-hoc calibration (label noise, noise scale, conformal correction): LODO over
       the noisy *and* clean-label runs of the ``reference`` training configuration (a
       default must not damage training on clean labels).
    2. Training configuration (featurizer, loss, early stopping) with the stage-1
       calibration fixed: LODO over the noisy runs.
    """
    groups = {s: v["group"] for s, v in grid.items()}
    posts = [_key(*v) for v in POSTHOC]
    t1 = {
        (s, slot): {p: v[slot][reference][p] for p in posts}
        for s, v in grid.items()
        for slot in ("noisy", "clean")
        if reference in v.get(slot, {})
    }
    stage1 = lodo(t1, groups)
    post = stage1["overall"]
    # stage 2 over the data sets where every training configuration ran (a reduced run
    # leaves some injected sets with the reference configuration only)
    configs = set.union(*(set(v.get("noisy", {})) for v in grid.values()))
    t2 = {
        (s, "noisy"): {c: r[post] for c, r in v["noisy"].items()}
        for s, v in grid.items()
        if set(v.get("noisy", {})) == configs
    }
    stage2 = lodo(t2, groups)
    stage2["sets"] = sorted(s for s, _ in t2)
    return {"criterion": selection_loss.__doc__, "calibration": stage1, "training": stage2}


COVERAGE = ("coverage_90", "coverage_95")
METRICS = ("n_test", "accuracy", "ece", "ece_floor", "mean_confidence") + COVERAGE
METRICS += ("set_size_90", "set_size_95", "temperature", "noise_scale")
#: what the results file keeps of the variants the selection did not choose
BRIEF = ("accuracy", "ece") + COVERAGE + ("noise_scale",)


def _summary(m: dict[str, Any], keys: tuple[str, ...] = METRICS) -> dict[str, Any]:
    return {k: round(float(m[k]), 4) for k in keys if k in m}


def compact(grid: dict[str, Any], sel: dict[str, Any]) -> dict[str, Any]:
    """The results file's per-set summary: every post-hoc variant of the reference
    configuration (noisy and clean labels), the selected variant of every other
    configuration, the noise-matrix comparison and the default runs; numbers rounded."""
    post = sel["calibration"]["overall"]
    out: dict[str, Any] = {}
    for name, v in grid.items():
        e: dict[str, Any] = {k: v[k] for k in ("group", "kind", "note")}
        for slot in ("noisy", "clean"):
            for cfg, r in v.get(slot, {}).items():
                keep = [_key(*p) for p in POSTHOC] if cfg == "minilm/ce" else [post]
                e.setdefault(slot, {})[cfg] = {
                    "fit_seconds": r["fit_seconds"],
                    "noise": {k: round(x, 4) for k, x in r["noise"].items()},
                    **{p: _summary(r[p], METRICS if p == post else BRIEF) for p in keep},
                }
        for slot in ("default", "previous_default", "default_clean"):
            if slot in v:
                e[slot] = {k: round(float(x), 4) for k, x in v[slot].items()}
        out[name] = e
    return out


# ---------------------------------------------------------------------------- default path
def run_default(s: Setting, **train_kw: Any) -> dict[str, Any]:
    """``train_model`` with default options (the CLI's path) on each outer fold: its test
    metrics against the true labels and its noise-matrix estimate."""
    from truelabel.learn import train_model

    parts, noise = [], []
    for tr, te in s.folds:
        df = pd.DataFrame({"text": [s.texts[i] for i in tr], "label": s.given[tr]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tm = train_model(df, text_column="text", label_column="label", **train_kw)
        p = tm.predict_proba([s.texts[i] for i in te])
        sets = {a: tm.predict_sets(p, alpha=a) for a in ALPHAS}
        parts.append(item_results(p, sets, _codes(s.truth[te], tm.classes)))
        info = tm.metadata["label_noise"]
        g, t, k = _codes(s.given[tr], tm.classes), _codes(s.truth[tr], tm.classes), len(tm.classes)
        nm, used = info.get("noise_matrix"), info.get("noise_matrix_used")
        z = noise_matrix_error(None if nm is None else np.asarray(nm), g, t, k)
        if nm is not None:
            zu = noise_matrix_error(np.eye(k) if used is None else np.asarray(used), g, t, k)
            z["used_rate"], z["used_tv"] = zu["est_rate"], zu["tv"]
            z["scale"] = info.get("noise_scale", 0.0)
        noise.append(z)
    out = pooled_metrics(parts)
    out["noise_true_rate"] = float(np.mean([z["true_rate"] for z in noise]))
    for key in ("est_rate", "tv", "max_entry_error", "used_rate", "used_tv", "scale"):
        if key in noise[0]:
            out[f"noise_{key}"] = float(np.mean([z[key] for z in noise]))
    return out


# ---------------------------------------------------------------------------- main
def _load_partial() -> dict[str, Any]:
    if PARTIAL.exists():
        return json.loads(PARTIAL.read_text())
    return {}


def _save_partial(grid: dict[str, Any]) -> None:
    PARTIAL.parent.mkdir(parents=True, exist_ok=True)
    tmp = PARTIAL.with_suffix(".tmp")
    tmp.write_text(json.dumps(grid, indent=1, default=float))
    tmp.replace(PARTIAL)


DEFAULT_CONFIGS = [
    f"{f}/{loss}{es}"
    for f in ("minilm", "tfidf")
    for loss in ("ce", "forward", "elr", "gce")
    for es in ("", "/es")
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sets", default=",".join(REAL + INJECTED))
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS))
    ap.add_argument("--no-clean", action="store_true", help="skip the clean-label ceilings")
    ap.add_argument("--report", action="store_true", help="selection from the partial grid")
    ap.add_argument("--default", action="store_true", help="run train_model's defaults")
    args = ap.parse_args()
    grid = _load_partial()
    names = [n for n in args.sets.split(",") if n]
    if not args.report:
        settings = load_settings(names)
        for s in settings:
            entry = grid.setdefault(s.name, {"group": s.group, "kind": s.kind, "note": s.note})
            for cfg in args.configs.split(","):
                for clean in (False, True) if not args.no_clean else (False,):
                    slot = "clean" if clean else "noisy"
                    if cfg in entry.get(slot, {}):
                        continue
                    t0 = time.time()
                    res = run_setting(s, cfg, clean)
                    entry.setdefault(slot, {})[cfg] = res
                    _save_partial(grid)
                    print(
                        f"[{s.name}] {slot} {cfg}: noise true {res['noise']['true_rate']:.3f} "
                        f"CL {res['noise']['est_rate']:.3f} ({time.time() - t0:.0f}s, load "
                        f"{os.getloadavg()[0]:.1f})",
                        flush=True,
                    )
                    for v in POSTHOC:
                        d = res[_key(*v)]
                        print(
                            f"    {_key(*v):24s} acc {d['accuracy']:.3f} ece {d['ece']:.3f} "
                            f"cov90 {d['coverage_90']:.3f} cov95 {d['coverage_95']:.3f} "
                            f"s {d['noise_scale']:.2f}",
                            flush=True,
                        )
    sel = select(grid)
    for stage in ("calibration", "training"):
        print(stage, sel[stage]["overall"], sel[stage]["ranking"][:6])
        print("   per held-out group:", sel[stage]["per_group_choice"])
    if args.default:
        settings = load_settings(names)
        for s in settings:
            entry = grid.setdefault(s.name, {"group": s.group, "kind": s.kind, "note": s.note})
            if "default" in entry and "previous_default" in entry:
                continue
            t0 = time.time()
            entry["default"] = run_default(s)
            entry["previous_default"] = run_default(s, holdout=0.2, label_noise="none")
            if not args.no_clean:
                entry["default_clean"] = run_default(
                    Setting(s.name, s.group, s.kind, s.texts, s.truth, s.truth, s.folds)
                )
            _save_partial(grid)
            # the clean-label ceiling: the default on the true labels, or (--no-clean) the
            # grid's reference configuration on them -- the same training path
            c = entry.get("default_clean") or entry["clean"]["minilm/ce"]["none"]
            d, p = entry["default"], entry["previous_default"]
            print(
                f"[{s.name}] default: acc {d['accuracy']:.3f} (clean {c['accuracy']:.3f}, "
                f"previous {p['accuracy']:.3f}) ece {d['ece']:.3f} (previous {p['ece']:.3f}) "
                f"cov90 {d['coverage_90']:.3f} cov95 {d['coverage_95']:.3f} "
                f"(previous {p['coverage_90']:.3f}/{p['coverage_95']:.3f}) "
                f"{time.time() - t0:.0f}s",
                flush=True,
            )
    payload = {"machine": machine(), "selection": sel, "sets": compact(grid, sel)}
    print(write_results("train_noise", payload))


if __name__ == "__main__":
    main()
