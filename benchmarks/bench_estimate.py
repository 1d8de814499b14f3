# ruff: noqa: E402
"""Valid estimates: coverage and width of truelabel's DSL / PPI++ vs ppi_py's PPI++.

Coverage simulation on real data. Each repetition draws a gold sample (the same
draw for every method), every method builds a 95% interval, and we count how
often the interval covers the truth and record its width.

- ``inference/ppi`` (alphafold, forest, gene_expression): the mean of Y; truth =
  the full-data mean. Gold n in {100, 500, 1000}, uniform without replacement.
  The active design (binary sets, whose predictions are probabilities) draws each
  row independently with probability proportional to sqrt(p(1-p)) mixed with a
  uniform floor (the default clip(5/sqrt(n), 0.2, 1), and the old fixed 0.2 on the
  same random numbers), expected size n, and estimates with those probabilities.
- ``inference/dsl`` (data_lm: OLS; data_logit: logit with the outcome and a
  covariate predicted; data_unequal: logit with unequal sampling). These files
  hold gold only for a DSL-sized sample (245-487 rows), so the population is
  completed semi-synthetically once (fixed seed): a missing gold value is drawn
  from a model of gold given predictions and covariates fitted on the observed
  gold rows. Truth = the coefficients on the completed population.
  data_unequal draws gold with probability proportional to its ``sample_prob``.
- ``llm-labels/llms_for_css``: class proportions of each task with ChatGPT's
  labels as the surrogate; truth = the gold class shares over all items. Items
  per task are ~240-500, so n in {100, 200} (500/1000 exceed the task size).

Baselines on the same draws: ppi_py's PPI++ (``lam=None``; ``ppi_mean_ci``,
``ppi_ols_ci``, ``ppi_logistic_ci``; with ``w = 1/pi`` for unequal sampling;
ppi_py cannot take a predicted covariate, so data_logit has no ppi_py column),
classical (gold only) and naive (predictions as truth).

Repetitions: 2000 for the n=100 cells (``--reps100``), 500 otherwise (``--reps``),
fixed in advance. truelabel's intervals use the small-sample correction (HC1
variance factor, t quantiles); the ``[plug-in se, z]`` rows are the same fits
without it. For 0/1 outcomes (means of binary Y, class shares) the default is the
score interval (Wilson-type); the ``[wald t+HC1]`` rows are the same fits' Wald
interval with the small-sample correction (the previous default).

    .venv/bin/python benchmarks/bench_estimate.py [--quick] [--reps 500] [--only NAME]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # small (N, p) matrices: BLAS threads only add contention
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "estimate.json"
sys.path.insert(0, str(ROOT / "src"))

from truelabel.estimate import (  # noqa: E402
    active_sampling_probs,
    estimate_mean,
    estimate_proportions,
    estimate_regression,
)

LEVEL = 0.95
ALPHA = 1 - LEVEL


# ----------------------------------------------------------------------------- problems
class Problem:
    """A population with truth, a way to draw gold, and the methods to run."""

    name: str
    kind: str
    terms: list[str]
    truth: np.ndarray
    n_total: int

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """Gold mask (N,) and sampling probabilities (or None for uniform)."""
        lab = np.zeros(self.n_total, bool)
        lab[rng.choice(self.n_total, n, replace=False)] = True
        return lab, None

    def methods(self) -> dict[str, Callable[[np.ndarray, np.ndarray | None], Any]]:
        raise NotImplementedError


def _ci(res: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(res.ci_low), np.asarray(res.ci_high)


Z = 1.959963984540054


def _ci_plugin(res: Any) -> tuple[np.ndarray, np.ndarray]:
    """The same fit's interval without the small-sample correction (plug-in se, z)."""
    est = np.asarray(res.estimate)
    se = np.asarray(res.se) / np.sqrt(res.extra.get("variance_factor", 1.0))
    return est - Z * se, est + Z * se


def _ci_wald(res: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """For a score-interval fit, the same fit's previous default (Wald, HC1 se, t quantile)."""
    if res.extra.get("interval") != "score":
        return None
    df = res.extra.get("df")
    q = Z if df is None else float(stats.t.ppf(0.5 + LEVEL / 2, df))
    est, se = np.asarray(res.estimate), np.asarray(res.se)
    return est - q * se, est + q * se


def _outputs(res: Any) -> dict[str, Any]:
    return {
        "valid": _ci(res),
        "plugin": _ci_plugin(res),
        "wald": _ci_wald(res),
        "classical": _ci(res.classical),
        "naive": _ci(res.naive),
    }


class MeanProblem(Problem):
    def __init__(self, name: str, Y: np.ndarray, Yhat: np.ndarray) -> None:
        self.name, self.kind, self.terms = name, "mean", ["mean"]
        self.Y, self.Yhat = Y.astype(float), Yhat.astype(float)
        self.truth = np.array([self.Y.mean()])
        self.n_total = len(Y)
        self.binary = bool(np.all((Y == 0) | (Y == 1)) and np.all((Yhat >= 0) & (Yhat <= 1)))

    def methods(self) -> dict[str, Callable[..., Any]]:
        from ppi_py import ppi_mean_ci

        def tl(method: str) -> Callable[..., Any]:
            def run(lab: np.ndarray, pi: np.ndarray | None) -> dict[str, Any]:
                r = estimate_mean(
                    np.where(lab, self.Y, np.nan),
                    self.Yhat,
                    method=method,
                    sampling_prob=pi,
                    level=LEVEL,
                    random_state=0,
                )
                return _outputs(r)

            return run

        def ppi(lab: np.ndarray, pi: np.ndarray | None) -> dict[str, Any]:
            lo, hi = ppi_mean_ci(self.Y[lab], self.Yhat[lab], self.Yhat[~lab], alpha=ALPHA)
            return {"valid": (np.atleast_1d(lo), np.atleast_1d(hi))}

        return {"truelabel dsl": tl("dsl"), "truelabel ppi++": tl("ppi++"), "ppi_py ppi++": ppi}

    def uncertainty(self) -> np.ndarray | None:
        return np.sqrt(self.Yhat * (1 - self.Yhat)) if self.binary else None


class RegressionProblem(Problem):
    def __init__(
        self,
        name: str,
        model: str,
        y: np.ndarray,
        X: np.ndarray,
        yhat: np.ndarray,
        Xhat: np.ndarray | None,
        terms: list[str],
        sample_prob: np.ndarray | None = None,
    ) -> None:
        self.name, self.kind, self.terms, self.model = name, model, terms, model
        self.y, self.X, self.yhat, self.Xhat = y, X, yhat, Xhat
        self.n_total = len(y)
        self.sample_prob = sample_prob
        self.truth = _fit_full(model, X, y)

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        if self.sample_prob is None:
            return super().draw(n, rng)
        pi = np.minimum(self.sample_prob * n / self.sample_prob.sum(), 1.0)
        return rng.random(self.n_total) < pi, pi

    def methods(self) -> dict[str, Callable[..., Any]]:
        from ppi_py import ppi_logistic_ci, ppi_ols_ci

        def tl(method: str) -> Callable[..., Any]:
            def run(lab: np.ndarray, pi: np.ndarray | None) -> dict[str, Any]:
                y = np.where(lab, self.y, np.nan)
                X = self.X.copy()
                if self.Xhat is not None:
                    X[~lab] = np.where(self.Xhat[~lab] != self.X[~lab], np.nan, X[~lab])
                r = estimate_regression(
                    y,
                    X,
                    self.yhat,
                    self.Xhat,
                    model=self.model,
                    labeled=lab,
                    sampling_prob=pi,
                    method=method,
                    level=LEVEL,
                    random_state=0,
                )
                return _outputs(r)

            return run

        out: dict[str, Callable[..., Any]] = {
            "truelabel dsl": tl("dsl"),
            "truelabel ppi++": tl("ppi++"),
        }
        if self.Xhat is None:

            def ppi(lab: np.ndarray, pi: np.ndarray | None) -> dict[str, Any]:
                kw: dict[str, Any] = {}
                if pi is None:
                    Xu, Yhu = self.X[~lab], self.yhat[~lab]
                else:  # IPW weights on gold; the unlabeled average runs over all rows
                    Xu, Yhu = self.X, self.yhat
                    kw = {"w": 1.0 / pi[lab], "w_unlabeled": np.ones(self.n_total)}
                f = ppi_ols_ci if self.model == "ols" else ppi_logistic_ci
                lo, hi = f(self.X[lab], self.y[lab], self.yhat[lab], Xu, Yhu, alpha=ALPHA, **kw)
                return {"valid": (np.asarray(lo), np.asarray(hi))}

            out["ppi_py ppi++"] = ppi
        return out


class ProportionProblem(Problem):
    def __init__(self, name: str, y: np.ndarray, yhat: np.ndarray, classes: list[str]) -> None:
        self.name, self.kind, self.terms = name, "proportions", classes
        self.y, self.yhat = y, yhat
        k = len(classes)
        self.truth = np.bincount(y, minlength=k) / len(y)
        self.n_total = len(y)
        self.onehot, self.onehot_hat = np.eye(k)[y], np.eye(k)[yhat]
        self.unmapped = 0.0
        self.accuracy = float(np.mean(y == yhat))

    def methods(self) -> dict[str, Callable[..., Any]]:
        from ppi_py import ppi_mean_ci

        def tl(method: str) -> Callable[..., Any]:
            def run(lab: np.ndarray, pi: np.ndarray | None) -> dict[str, Any]:
                r = estimate_proportions(
                    np.where(lab, self.y, -1),
                    self.yhat,
                    n_classes=len(self.terms),
                    method=method,
                    level=LEVEL,
                    random_state=0,
                )
                return _outputs(r)

            return run

        def ppi(lab: np.ndarray, pi: np.ndarray | None) -> dict[str, Any]:
            lo, hi = ppi_mean_ci(
                self.onehot[lab],
                self.onehot_hat[lab],
                self.onehot_hat[~lab],
                alpha=ALPHA,
                lam_optim_mode="element",
            )
            return {"valid": (np.asarray(lo), np.asarray(hi))}

        return {"truelabel dsl": tl("dsl"), "truelabel ppi++": tl("ppi++"), "ppi_py ppi++": ppi}


def _fit_full(model: str, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    if model == "ols":
        return np.linalg.lstsq(X, y, rcond=None)[0]
    th = np.zeros(X.shape[1])
    for _ in range(100):
        mu = special.expit(X @ th)
        step = np.linalg.solve((X.T * (mu * (1 - mu))) @ X, X.T @ (mu - y))
        th -= step
        if np.abs(step).max() < 1e-10:
            break
    return th


# ----------------------------------------------------------------------------- loaders
def load_ppi(name: str) -> MeanProblem:
    z = np.load(DATA / "inference" / "ppi" / f"{name}.npz")
    return MeanProblem(name, z["Y"], z["Yhat"])


def _complete(
    rng: np.random.Generator,
    target: np.ndarray,
    F: np.ndarray,
    binary: bool,
    w: np.ndarray | None = None,
) -> np.ndarray:
    """Fill NaNs in ``target`` by a draw from a model fitted on its observed rows."""
    obs = np.isfinite(target)
    Z = np.column_stack([np.ones(len(F)), F])
    out = target.copy()
    if binary:
        ww = np.ones(obs.sum()) if w is None else w[obs]
        th = np.zeros(Z.shape[1])
        for _ in range(100):
            mu = special.expit(Z[obs] @ th)
            step = np.linalg.solve(
                (Z[obs].T * (ww * mu * (1 - mu))) @ Z[obs] + 1e-6 * np.eye(len(th)),
                Z[obs].T @ (ww * (mu - target[obs])),
            )
            th -= step
            if np.abs(step).max() < 1e-10:
                break
        out[~obs] = (rng.random((~obs).sum()) < special.expit(Z[~obs] @ th)).astype(float)
    else:
        th = np.linalg.lstsq(Z[obs], target[obs], rcond=None)[0]
        resid = target[obs] - Z[obs] @ th
        out[~obs] = Z[~obs] @ th + rng.choice(resid, (~obs).sum())
    return out


def load_dsl(name: str) -> RegressionProblem:
    d = pd.read_csv(DATA / "inference" / "dsl" / f"{name}.csv")
    rng = np.random.default_rng(20231)
    n = len(d)
    one = np.ones((n, 1))
    if name == "data_lm":
        xs = ["X1", "X2", "X3", "X4", "X5"]
        Y = _complete(rng, d.Y.to_numpy(float), d[["pred_Y", *xs]].to_numpy(float), False)
        X = np.column_stack([one, d[xs].to_numpy(float)])
        return RegressionProblem(
            name, "ols", Y, X, d.pred_Y.to_numpy(float), None, ["Intercept", *xs]
        )
    if name == "data_logit":
        others = [f"X{j}" for j in range(2, 11)]
        X1 = _complete(
            rng, d.X1.to_numpy(float), d[["pred_X1", "pred_Y", *others]].to_numpy(float), False
        )
        Fy = np.column_stack([d.pred_Y, X1, d[others]])
        Y = _complete(rng, d.Y.to_numpy(float), Fy, True)
        xs = ["X1", "X2", "X4"]
        X = np.column_stack([one, X1, d[["X2", "X4"]].to_numpy(float)])
        Xh = np.column_stack([one, d.pred_X1, d[["X2", "X4"]].to_numpy(float)])
        return RegressionProblem(
            name, "logit", Y, X, d.pred_Y.to_numpy(float), Xh, ["Intercept", *xs]
        )
    if name == "data_unequal":
        xs = ["X1", "X2", "X3"]
        sp = d.sample_prob.to_numpy(float)
        Y = _complete(rng, d.Y.to_numpy(float), d[["pred_Y", *xs]].to_numpy(float), True, w=1 / sp)
        X = np.column_stack([one, d[xs].to_numpy(float)])
        return RegressionProblem(
            name, "logit", Y, X, d.pred_Y.to_numpy(float), None, ["Intercept", *xs], sample_prob=sp
        )
    raise ValueError(name)


def _norm(x: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", x.lower().replace("_", " ")).strip()


def load_css(task: str, model: str = "chatgpt") -> ProportionProblem:
    """Gold labels and ChatGPT's answers; letters are mapped to classes via the prompt."""
    base = DATA / "llm-labels" / "llms_for_css" / task
    a = pd.read_csv(
        base / f"answer-{model}",
        sep="\t",
        header=None,
        names=["row", "gold", "pred"],
        dtype=str,
        keep_default_na=False,
    )
    gold = a["gold"].str.strip()
    classes = sorted(set(gold))
    by_norm = {_norm(c): c for c in classes}
    prompts = json.loads((base / "test.json").read_text())["prompts"]
    first = prompts[next(iter(prompts))] if isinstance(prompts, dict) else prompts[0]
    options = dict(re.findall(r"^([A-Z]): (.+)$", first, flags=re.M))

    def to_class(raw: str) -> str | None:
        p = raw.replace("&", " ").strip().rstrip(".").strip()
        if _norm(p) in by_norm:
            return by_norm[_norm(p)]
        m = re.match(r"^([A-Z])(?:[:.)]|$)", p)
        if m and m.group(1) in options:
            opt = _norm(options[m.group(1)])
            if opt in by_norm:
                return by_norm[opt]
            hits = [c for k, c in by_norm.items() if k and opt.startswith(k)]
            if len(hits) == 1:
                return hits[0]
        return None

    pred = a["pred"].map(to_class)
    code = {c: i for i, c in enumerate(classes)}
    y = gold.map(code).to_numpy()
    # an answer that names no class (refusal, several options) counts as the majority class
    maj = classes[int(np.bincount(y).argmax())]
    unknown = float(pred.isna().mean())
    yhat = pred.fillna(maj).map(code).to_numpy()
    prob = ProportionProblem(f"css/{task}", y, yhat, classes)
    prob.unmapped = unknown
    prob.accuracy = float(np.mean(y == yhat))
    return prob


# ----------------------------------------------------------------------------- simulation
def simulate(
    prob: Problem, ns: list[int], reps: int, seed: int, active: bool, reps100: int | None = None
) -> list[dict]:
    methods = prob.methods()
    rows = []
    unc = prob.uncertainty() if active and isinstance(prob, MeanProblem) else None
    reps_all = reps
    for n in ns:
        if n >= prob.n_total:
            continue
        reps = reps100 if (n == 100 and reps100) else reps_all
        rng = np.random.default_rng([seed, n])
        cover: dict[str, list[np.ndarray]] = {}
        width: dict[str, list[np.ndarray]] = {}
        t0 = time.perf_counter()
        fails: dict[str, int] = {}

        def record(key: str, lo: np.ndarray, hi: np.ndarray, cover=cover, width=width) -> None:  # noqa: ANN001
            cover.setdefault(key, []).append((lo <= prob.truth) & (prob.truth <= hi))
            width.setdefault(key, []).append(hi - lo)

        designs = (
            {
                "truelabel dsl, active design": active_sampling_probs(unc, n),  # floor "auto"
                "truelabel dsl, active design, floor 0.2": active_sampling_probs(unc, n, floor=0.2),
            }
            if unc is not None
            else {}
        )
        for _ in range(reps):
            lab, pi = prob.draw(n, rng)
            for name, fn in methods.items():
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        out = fn(lab, pi)
                except Exception:  # noqa: BLE001 - a failed fit counts as a miss
                    fails[name] = fails.get(name, 0) + 1
                    nan = np.full(len(prob.terms), np.nan)
                    out = {"valid": (nan, nan)}
                record(name, *out["valid"])
                if name.startswith("truelabel"):
                    nan2 = (np.full(len(prob.terms), np.nan),) * 2
                    record(f"{name} [plug-in se, z]", *out.get("plugin", nan2))
                    if out.get("wald") is not None:
                        record(f"{name} [wald t+HC1]", *out["wald"])
                if name == "truelabel dsl":
                    record("classical", *out.get("classical", (np.nan, np.nan)))
                    record("naive", *out.get("naive", (np.nan, np.nan)))
            if designs:
                draw = rng.random(prob.n_total)  # one draw shared by both active designs
                for key, pi_act in designs.items():
                    lab_a = draw < pi_act
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        out = methods["truelabel dsl"](lab_a, pi_act)
                    record(key, *out["valid"])
                    record(f"{key} [plug-in se, z]", *out["plugin"])
                    if out.get("wald") is not None:
                        record(f"{key} [wald t+HC1]", *out["wald"])
        secs = time.perf_counter() - t0
        for key in cover:
            c = np.array(cover[key], dtype=float)
            w = np.array(width[key], dtype=float)
            rows.append(
                {
                    "dataset": prob.name,
                    "kind": prob.kind,
                    "n": n,
                    "method": key,
                    "coverage": np.nanmean(c, axis=0).tolist() if c.size else None,
                    "median_width": np.nanmedian(w, axis=0).tolist(),
                    "terms": prob.terms,
                    "failures": fails.get(key, 0),
                    "reps": reps,
                }
            )
        print(f"  {prob.name} n={n}: {secs:.1f}s", flush=True)
    return rows


def summarize(rows: list[dict]) -> pd.DataFrame:
    recs = []
    for r in rows:
        cov = np.array(r["coverage"], float)
        wid = np.array(r["median_width"], float)
        recs.append(
            {
                "dataset": r["dataset"],
                "n": r["n"],
                "method": r["method"],
                "min_cov": float(np.min(cov)),
                "mean_cov": float(np.mean(cov)),
                "reps": int(r["reps"]),
                # Monte-Carlo standard error of the min coverage estimate
                "mc_se": float(np.sqrt(np.min(cov) * (1 - np.min(cov)) / r["reps"])),
                "med_width": float(np.mean(wid)),
                "fails": r["failures"],
            }
        )
    df = pd.DataFrame(recs)
    base = df[df.method == "ppi_py ppi++"].set_index(["dataset", "n"])["med_width"]
    df["width/ppi_py"] = [r.med_width / base.get((r.dataset, r.n), np.nan) for r in df.itertuples()]
    return df


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="50 repetitions, n=100 only")
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument(
        "--reps100",
        type=int,
        default=2000,
        help="repetitions for the n=100 cells (fixed in advance for Monte-Carlo precision)",
    )
    ap.add_argument("--only", default=None, help="substring of dataset names to run")
    ap.add_argument(
        "--group",
        default="all",
        choices=["all", "ppi", "dsl", "css"],
        help="run one group and write results/estimate_<group>.json",
    )
    ap.add_argument(
        "--report",
        action="store_true",
        help="merge results/estimate_{ppi,dsl,css}.json into estimate.json and print",
    )
    ap.add_argument("--ns", default=None, help="comma-separated gold sizes (default 100,500,1000)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    reps = 50 if args.quick else args.reps
    reps100 = 50 if args.quick else args.reps100
    ns = [100] if args.quick else [100, 500, 1000]
    if args.ns:
        ns = [int(x) for x in args.ns.split(",")]
    css_ns = [100] if args.quick else [100, 200]
    if args.ns:
        css_ns = [n for n in ns if n in (100, 200)] or css_ns
    if args.report:
        report()
        return
    g = args.group
    problems: list[tuple[Problem, list[int], bool]] = []
    if g in ("all", "ppi"):
        for name in ("alphafold", "forest", "gene_expression"):
            problems.append((load_ppi(name), ns, True))
    if g in ("all", "dsl"):
        for name in ("data_lm", "data_logit", "data_unequal"):
            problems.append((load_dsl(name), ns, False))
    if g in ("all", "css"):
        problems.extend((p, css_ns, False) for p in css_problems())
    if args.only:
        problems = [p for p in problems if any(o in p[0].name for o in args.only.split(","))]
    rows: list[dict] = []
    t0 = time.perf_counter()
    for prob, pns, active in problems:
        rows.extend(simulate(prob, pns, reps, seed=0, active=active, reps100=reps100))
    total = time.perf_counter() - t0
    df = summarize(rows)
    pd.set_option("display.width", 200)
    print(df.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    from importlib.metadata import version

    import ppi_py  # noqa: F401

    out = {
        "benchmark": "estimate coverage simulation",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {
            "level": LEVEL,
            "reps": reps,
            "reps_n100": reps100,
            "ns": ns,
            "css_ns": css_ns,
            "active_floor": "auto = clip(5/sqrt(n), 0.2, 1); also 0.2 (the old default)",
            "small_sample": "truelabel rows: HC1 variance factor + t(n_gold - p); "
            "'[plug-in se, z]' rows: the same fits without it",
            "interval": "truelabel rows of 0/1 outcomes (means, class shares): score "
            "(Wilson-type, effective sample size, z); '[wald t+HC1]' rows: the same fits' "
            "Wald interval with the small-sample correction (the previous default)",
            "quick": args.quick,
        },
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "ppi_python": version("ppi-python"),
        },
        "machine": "2 CPU cores shared with ~8 concurrent agents; timings are indicative only",
        "seconds": total,
        "summary": df.to_dict(orient="records"),
        "rows": rows,
    }
    suffix = g if not args.only else f"{g}_{args.only.replace('/', '_').replace(',', '+')}"
    if args.ns:
        suffix += "_n" + args.ns.replace(",", "+")
    dest = (
        Path(args.out)
        if args.out
        else (
            RESULTS
            if g == "all" and not args.only
            else RESULTS.with_name(f"estimate_{suffix}.json")
        )
    )
    dest.write_text(json.dumps(out, indent=1, default=float))
    print(f"wrote {dest} in {total:.0f}s")


def css_problems() -> list[ProportionProblem]:
    """Tasks whose gold is a small set of answer letters (free-text tasks are skipped)."""
    root = DATA / "llm-labels" / "llms_for_css"
    out = []
    for task in sorted(p.name for p in root.iterdir() if p.is_dir()):
        f = root / task / "answer-chatgpt"
        if not f.exists():
            continue
        gold = pd.read_csv(f, sep="\t", header=None, usecols=[1], dtype=str, keep_default_na=False)[
            1
        ].str.strip()
        if gold.nunique() > 12:  # free-text gold (hippocorpus, sbic): not a classification
            continue
        prob = load_css(task)
        if prob.unmapped < 0.2:
            out.append(prob)
    return out


def report() -> None:
    """Merge the group files into estimate.json and print the markdown tables."""
    rows: list[dict] = []
    meta: dict[str, Any] = {}
    seen: set[tuple[str, int, str]] = set()
    for f in sorted(RESULTS.parent.glob("estimate_*.json")):
        js = json.loads(f.read_text())
        for r in js["rows"]:  # a (dataset, n, method) run twice counts once
            key = (r["dataset"], r["n"], r["method"])
            if key not in seen:
                seen.add(key)
                rows.append(r)
        meta[f.stem] = {k: js[k] for k in ("date", "settings", "versions", "seconds", "machine")}
    df = summarize(rows)
    out = {
        "benchmark": "estimate coverage simulation (merged)",
        "groups": meta,
        "summary": df.to_dict(orient="records"),
        "rows": rows,
    }
    RESULTS.write_text(json.dumps(out, indent=1, default=float))
    print(markdown(df))


def markdown(df: pd.DataFrame) -> str:
    order = [
        f"{m}{suffix}"
        for m in (
            "truelabel dsl",
            "truelabel ppi++",
            "ppi_py ppi++",
            "classical",
            "naive",
            "truelabel dsl, active design",
            "truelabel dsl, active design, floor 0.2",
        )
        for suffix in ("", " [wald t+HC1]", " [plug-in se, z]")
    ]
    lines = []
    first = {d: i for i, d in enumerate(dict.fromkeys(df.dataset))}
    df = df.assign(_o=df.dataset.map(first)).sort_values(["_o", "n"], kind="stable")
    for (_, ds, n), sub in df.groupby(["_o", "dataset", "n"], sort=False):
        sub = sub.set_index("method")
        for m in order:
            if m not in sub.index:
                continue
            r = sub.loc[m]
            lines.append(
                f"| {ds} | {n} | {m} | {r.min_cov:.3f} ± {r.mc_se:.3f} | {r.mean_cov:.3f} | "
                f"{r.med_width:.4g} | {r['width/ppi_py']:.3f} | {r.reps} |"
            )
    head = (
        "| dataset | n | method | min coverage ± MC se | mean coverage | median width | "
        "width / ppi_py | reps |\n|---|---|---|---|---|---|---|---|\n"
    )
    return head + "\n".join(lines)


if __name__ == "__main__":
    main()
