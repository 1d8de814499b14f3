"""Leave-one-dataset-out choice of ``auto``'s decision rule and of the posterior calibration.

Step 1 (``--collect``): on every real vote set of ``benchmarks/_votesets.py`` (crowd, WRENCH
as a label matrix and as a long table, LLMs; the duplicate cubam/bluebirds left out), run
``select_label_model`` with its defaults (no gold) and record, per candidate, what the rule
sees — held-out log-likelihood per hidden vote, its gain over majority vote in paired
standard errors (``z``), the collapse ratio on the held-out rounds and on all the votes, the
held-out temperature — and, for scoring only, its accuracy and the ECE of its posterior for
a grid of calibration settings (temperature factor ``f`` x mixing weight ``eps`` toward the
uniform distribution: ``(1 - eps) softmax((ll + lp) / (f T)) + eps / K``).

Step 2 (``--analyze``): for each held-out set, choose the rule's two numbers (``z``, the
collapse ratio) on all the *other* sets (fewest misses of the targets; among equals, the
one nearest the shipped rule, z = 2 standard errors and ratio 0.2), and apply it to the
held-out set; likewise the calibration (temperature factors ``f`` for vote-counting and
for model posteriors, ``eps``) on the other crowd sets with gold (fewest sets with ECE >
0.05, then the smallest worst ECE; ``LODO_SHARED_FACTOR=1`` forces one factor for both).
Gold is used only to score, never by the rule.

    python benchmarks/experiments/auto_lodo.py --collect     # writes results/auto_lodo.json
    python benchmarks/experiments/auto_lodo.py --analyze     # reads it (+ aggregate_crowd.json)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _common import ece  # noqa: E402
from _votesets import NOT_IN_LODO, load_set, set_names  # noqa: E402

RESULTS = HERE.parent / "results" / "auto_lodo.json"
CROWD_RESULTS = Path(
    os.environ.get("CROWD_RESULTS", HERE.parent / "results" / "aggregate_crowd.json")
)
FACTORS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)
EPSILONS = (0.0, 0.02, 0.05, 0.1)
ZS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
RATIOS = (0.05, 0.1, 0.15, 0.2, 0.3)
#: posteriors that are a softmax of vote counts (their temperature factor is chosen apart)
COUNTING = ("mv", "wawa")


def collect(names: list[str]) -> None:
    from truelabel.aggregate import make_label_model, select_label_model
    from truelabel.aggregate._auto import _class_share_ratio
    from truelabel.aggregate._base import _n_true
    from truelabel.aggregate._calibrate import temper
    from truelabel.sources._votes import with_abstain_votes

    out = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"sets": {}}
    for name in names:
        if name in NOT_IN_LODO:
            continue
        vs = load_set(name)
        v = with_abstain_votes(vs.votes) if vs.votes.info.get("abstain_informative") else vs.votes
        g = vs.gold
        has = g >= 0
        k = _n_true(v)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            choice = select_label_model(v)
        t_sel = time.perf_counter() - t0
        rec: dict[str, Any] = {
            "kind": vs.kind,
            "n_votes": vs.votes.n_votes,
            "n_items": v.n_items,
            "default_choice": choice.method,
            "default_temperature": choice.temperature,
            "select_seconds": t_sel,
            "loadavg": list(os.getloadavg()),
            "candidates": {},
        }
        cand_details = choice.candidates or {
            "mv": {"score": 0.0, "z_vs_mv": None, "collapse_ratio": 1.0, "temperature": 1.0}
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mv_labels = make_label_model("mv").fit(v).labels_
            for c, d in cand_details.items():
                m = make_label_model(c).fit(v)
                ll, lp = m._log_scores(v.without_gold())
                t = float(d["temperature"])
                grid = []
                for f in FACTORS:
                    q = temper(ll, lp, t * f)
                    grid.append([ece((1 - e) * q + e / k, g) for e in EPSILONS])
                rec["candidates"][c] = {
                    "score": d["score"],
                    "z_vs_mv": d["z_vs_mv"],
                    "collapse_ratio": d["collapse_ratio"],
                    "collapse_ratio_all": _class_share_ratio(m.labels_, mv_labels, k),
                    "temperature": t,
                    "accuracy": float((m.labels_[has] == g[has]).mean()),
                    "ece_raw": ece(np.asarray(m.posterior_), g),
                    "ece_grid": grid,
                }
        out["sets"][name] = rec
        out["factors"], out["epsilons"] = list(FACTORS), list(EPSILONS)
        RESULTS.write_text(json.dumps(out, indent=1, default=float))
        acc = rec["candidates"][choice.method]["accuracy"]
        print(
            f"{name:32s} {choice.method:9s} acc={acc:.3f} T={choice.temperature:.2f} "
            f"select {t_sel:.1f}s",
            flush=True,
        )


def _decide(rec: dict[str, Any], z: float, ratio: float) -> str:
    cands = rec["candidates"]
    ok = {"mv": cands["mv"]["score"]} if "mv" in cands else {}
    for c, d in cands.items():
        if c == "mv":
            continue
        if min(d["collapse_ratio"], d["collapse_ratio_all"]) < ratio:
            continue
        if d["z_vs_mv"] is None or d["z_vs_mv"] <= z:
            continue
        ok[c] = d["score"]
    return max(ok, key=lambda c: ok[c])


def _distance(p: tuple[float, float]) -> float:
    """How far a rule is from the shipped one (z = 2 SE, collapse ratio 0.2): among rules
    with equally few misses, the nearest is kept."""
    return abs(np.log(p[0] / 2.0)) + abs(np.log(p[1] / 0.2))


def _ck_best() -> dict[str, float]:
    if not CROWD_RESULTS.exists():
        return {}
    out = {}
    for r in json.loads(CROWD_RESULTS.read_text()).get("datasets", []):
        accs = [
            m["accuracy"]
            for k, m in r["methods"].items()
            if k.startswith("crowdkit.") and m.get("accuracy") is not None
        ]
        if accs:
            out[r["dataset"]] = max(accs)
    return out


def _misses(
    recs: dict[str, Any], z: float, ratio: float, ck: dict[str, float]
) -> tuple[int, float]:
    miss, accs = 0, []
    for name, rec in recs.items():
        c = _decide(rec, z, ratio)
        a = rec["candidates"][c]["accuracy"]
        accs.append(a)
        miss += a < rec["candidates"]["mv"]["accuracy"] - 0.005
        if rec["kind"] == "crowd" and name in ck:
            miss += a < ck[name] - 0.005
    return miss, float(np.mean(accs))


def analyze() -> dict[str, Any]:
    data = json.loads(RESULTS.read_text())
    recs = data["sets"]
    ck = _ck_best()
    grid = [(z, r) for z in ZS for r in RATIOS]
    rows = []
    for held in recs:
        others = {n: r for n, r in recs.items() if n != held}
        best = min(grid, key=lambda p: (_misses(others, *p, ck)[0], _distance(p)))
        rec = recs[held]
        c = _decide(rec, *best)
        a = rec["candidates"][c]["accuracy"]
        mv = rec["candidates"]["mv"]["accuracy"]
        rows.append(
            {
                "set": held,
                "kind": rec["kind"],
                "rule_z": best[0],
                "rule_ratio": best[1],
                "choice": c,
                "accuracy": a,
                "mv": mv,
                "minus_mv_pts": 100 * (a - mv),
                "best_crowdkit": ck.get(held),
                "minus_ck_pts": None if held not in ck else 100 * (a - ck[held]),
            }
        )
    # calibration: crowd sets with gold, the LODO rule's choice on each. The temperature
    # factor may differ between vote-counting posteriors (mv, wawa: softmax of counts) and
    # model posteriors (the EM models and GLAD).
    fac, eps = data["factors"], data["epsilons"]
    crowd = [r for r in rows if r["kind"] == "crowd"]

    def ece_of(row: dict[str, Any], p: tuple[int, int, int]) -> float:
        fi = p[0] if row["choice"] in COUNTING else p[1]
        return recs[row["set"]]["candidates"][row["choice"]]["ece_grid"][fi][p[2]]

    shared = os.environ.get("LODO_SHARED_FACTOR", "0") == "1"
    cal_grid = [
        (fc, fm, ei)
        for fc in range(len(fac))
        for fm in range(len(fac))
        for ei in range(len(eps))
        if fc == fm or not shared
    ]
    for row in crowd:
        others = [r for r in crowd if r["set"] != row["set"]]

        def cost(p: tuple[int, int, int], others: list[dict[str, Any]] = others) -> tuple:
            es = [ece_of(r, p) for r in others]
            return (sum(e > 0.05 for e in es), max(es), float(np.mean(es)))

        p = min(cal_grid, key=cost)
        row["cal_factor_counting"], row["cal_factor_model"] = fac[p[0]], fac[p[1]]
        row["cal_eps"] = eps[p[2]]
        row["ece"] = ece_of(row, p)
        row["ece_t1"] = recs[row["set"]]["candidates"][row["choice"]]["ece_raw"]
        row["ece_heldout_t"] = ece_of(row, (0, 0, 0))
    best_cal = min(
        cal_grid,
        key=lambda p: (
            sum(ece_of(r, p) > 0.05 for r in crowd),
            max(ece_of(r, p) for r in crowd),
        ),
    )
    all_best = min(grid, key=lambda p: (_misses(recs, *p, ck)[0], _distance(p)))
    summary = {
        "rule_on_all_sets": {"z": all_best[0], "collapse_ratio": all_best[1]},
        "calibration_on_all_crowd_sets": {
            "factor_counting": fac[best_cal[0]],
            "factor_model": fac[best_cal[1]],
            "eps": eps[best_cal[2]],
        },
        "rows": rows,
    }
    for r in rows:
        print(
            f"{r['set']:32s} z={r['rule_z']:.1f} ratio={r['rule_ratio']:.2f} {r['choice']:9s} "
            f"acc={r['accuracy']:.3f} vs mv {r['minus_mv_pts']:+.1f}"
            + ("" if r["minus_ck_pts"] is None else f" vs ck {r['minus_ck_pts']:+.1f}")
            + (
                ""
                if "ece" not in r
                else f" | ECE raw {r['ece_t1']:.3f} heldout-T {r['ece_heldout_t']:.3f} "
                f"LODO(f={r['cal_factor_counting']}/{r['cal_factor_model']}, eps={r['cal_eps']})"
                f" {r['ece']:.3f}"
            )
        )
    print("rule on all sets:", summary["rule_on_all_sets"])
    print("calibration on all crowd sets:", summary["calibration_on_all_crowd_sets"])
    data["lodo"] = summary
    RESULTS.write_text(json.dumps(data, indent=1, default=float))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--collect", action="store_true")
    ap.add_argument("--analyze", action="store_true")
    ap.add_argument("--only", default=None, help="'|'-separated set names for --collect")
    args = ap.parse_args()
    if args.collect:
        collect(args.only.split("|") if args.only else set_names())
    if args.analyze:
        analyze()


if __name__ == "__main__":
    main()
