"""End-to-end speed of ``truelabel aggregate`` vs crowd-kit DawidSkene, each as a whole process.

1M votes on 200k items (a Dawid-Skene world: 2,000 workers with accuracies ~ Beta(6, 2),
4 classes, 5 votes per item, written once as a CSV with string worker and class names).
Each tool runs as a fresh process that reads the CSV, fits and writes the labels:

- ``crowd-kit``: ``pd.read_csv`` -> ``DawidSkene(n_iter=100).fit_predict(df)`` -> parquet;
- ``truelabel aggregate votes.csv --out run`` with default options (``auto``), and with
  ``--method ds`` (the same model as crowd-kit's).

Runs are interleaved (tool order rotates each round); wall time min and median are
reported with the load average, and accuracy against the generating truth. A profile of
the default truelabel command (cProfile, in-process) splits its time into imports,
reading, coding, model selection, fitting, source table and writing.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_aggregate_e2e.py
    ... --rounds 3 --items 200000     (defaults)
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _common import ROOT, machine, write_results

PY = sys.executable
TL = str(Path(PY).with_name("truelabel"))
CLASSES = np.array(["cat", "dog", "fox", "owl"])

CROWDKIT = """
import sys
import pandas as pd
from crowdkit.aggregation import DawidSkene
df = pd.read_csv(sys.argv[1]).rename(columns={"item_id": "task", "source": "worker"})
labels = DawidSkene(n_iter=100).fit_predict(df)
labels.rename("label").reset_index().to_parquet(sys.argv[2], index=False)
"""


def make_votes(path: Path, n_items: int, seed: int = 0) -> pd.Series:
    """Write the votes CSV; return the true class name per item id."""
    rng = np.random.default_rng(seed)
    n_workers, per, k = max(n_items // 100, 10), 5, len(CLASSES)
    truth = rng.choice(k, n_items, p=[0.4, 0.3, 0.2, 0.1])
    acc = rng.beta(6, 2, n_workers)
    items = np.repeat(np.arange(n_items), per)
    workers = rng.integers(0, n_workers, len(items))
    t = truth[items]
    right = rng.random(len(items)) < acc[workers]
    label = np.where(right, t, (t + rng.integers(1, k, len(items))) % k)
    df = pd.DataFrame(
        {"item_id": items, "source": np.char.add("w", workers.astype(str)), "label": CLASSES[label]}
    ).drop_duplicates(["item_id", "source"])
    df.to_csv(path, index=False)
    return pd.Series(CLASSES[truth], index=np.arange(n_items))


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + system) of one process run to completion.

    CPU time moves much less than wall time when other jobs share the cores.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    sec = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return sec, cpu


def accuracy(labels: pd.DataFrame, truth: pd.Series, id_col: str) -> float:
    pred = labels.set_index(id_col)["label"].astype(str)
    return float((pred.reindex(truth.index) == truth).mean())


def profile_truelabel(votes: Path, out: Path) -> dict[str, float]:
    """CPU seconds per phase of the default command, from one in-process cProfile run."""
    code = f"""
import sys
sys.argv = ["truelabel", "aggregate", {str(votes)!r}, "--out", {str(out)!r}]
from truelabel.cli import main
try:
    main()
except SystemExit:
    pass
"""
    prof = cProfile.Profile(time.process_time)  # CPU seconds: steadier than wall on a shared box
    t0 = time.process_time()
    prof.runctx(code, {}, {})
    total = time.process_time() - t0
    st = pstats.Stats(prof)
    cum: dict[str, float] = {}
    for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        key = f"{Path(file).name}:{func}"
        cum[key] = max(cum.get(key, 0.0), ct)

    def get(*names: str) -> float:
        return float(sum(cum.get(n, 0.0) for n in names))

    phases = {
        "read (read_table)": get("_readers.py:read_table"),
        "code (votes_from_table minus reading)": get("_votes.py:votes_from_table")
        - get("_readers.py:read_table"),
        "model selection (select_label_model)": get("_auto.py:select_label_model"),
        "fit (chosen model)": get("_result.py:aggregate_votes")
        - get("_auto.py:select_label_model")
        - get("_quality.py:source_quality", "_quality.py:krippendorff_alpha"),
        "source table + alpha": get("_quality.py:source_quality", "_quality.py:krippendorff_alpha"),
        "report (render_report)": get("_report.py:render_report"),
        "write files": get("_result.py:write_aggregate_run") - get("_report.py:render_report"),
    }
    phases["imports (all modules, incl. lazy ones inside the phases above)"] = get(
        "<frozen importlib._bootstrap>:_find_and_load"
    )
    phases["total (in-process, profiled, CPU)"] = total
    return {k: round(max(v, 0.0), 3) for k, v in phases.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory(prefix="tl-e2e-") as tmp:
        work = Path(tmp)
        votes = work / "votes.csv"
        truth = make_votes(votes, args.items)
        n_votes = sum(1 for _ in open(votes)) - 1
        script = work / "crowdkit_ds.py"
        script.write_text(CROWDKIT)
        tools = {
            "crowd-kit DawidSkene": [PY, str(script), str(votes), str(work / "ck.parquet")],
            "truelabel aggregate (default)": [
                TL,
                "aggregate",
                str(votes),
                "--out",
                str(work / "tl"),
            ],
            "truelabel aggregate --method ds": [
                TL,
                "aggregate",
                str(votes),
                "--out",
                str(work / "tl_ds"),
                "--method",
                "ds",
            ],
            "python -c pass": [PY, "-c", "pass"],
            "python -c 'import truelabel.cli'": [PY, "-c", "import truelabel.cli"],
            "python -c 'import truelabel.aggregate'": [PY, "-c", "import truelabel.aggregate"],
        }
        times: dict[str, list[float]] = {k: [] for k in tools}
        cpus: dict[str, list[float]] = {k: [] for k in tools}
        loads = []
        names = list(tools)
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                loads.append(os.getloadavg()[0])
                wall, cpu = run(tools[name], env)
                times[name].append(wall)
                cpus[name].append(cpu)
                print(f"round {r}: {name} {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
        acc = {
            "crowd-kit DawidSkene": accuracy(pd.read_parquet(work / "ck.parquet"), truth, "task"),
            "truelabel aggregate (default)": accuracy(
                pd.read_parquet(work / "tl" / "labels.parquet"), truth, "item_id"
            ),
            "truelabel aggregate --method ds": accuracy(
                pd.read_parquet(work / "tl_ds" / "labels.parquet"), truth, "item_id"
            ),
        }
        import json

        summary = json.loads((work / "tl" / "summary.json").read_text())
        sys.path.insert(0, str(ROOT / "src"))
        profile = profile_truelabel(votes, work / "tl_prof")
    ck = float(np.min(times["crowd-kit DawidSkene"]))
    ck_cpu = float(np.min(cpus["crowd-kit DawidSkene"]))
    rows = []
    for name, ts in times.items():
        rows.append(
            {
                "tool": name,
                "min_s": round(float(np.min(ts)), 3),
                "median_s": round(float(np.median(ts)), 3),
                "cpu_min_s": round(float(np.min(cpus[name])), 3),
                "speedup_vs_crowdkit_min": round(ck / float(np.min(ts)), 2),
                "cpu_speedup_vs_crowdkit": round(ck_cpu / max(float(np.min(cpus[name])), 1e-9), 2),
                "accuracy": acc.get(name),
            }
        )
    results: dict[str, Any] = {
        "machine": machine(),
        "loadavg_during_runs": [round(x, 2) for x in loads],
        "n_items": args.items,
        "n_votes": n_votes,
        "rounds": args.rounds,
        "rows": rows,
        "auto_choice": summary.get("method"),
        "auto_reason": summary.get("method_reason"),
        "summary_seconds": summary.get("seconds"),
        "profile_default_command": profile,
    }
    print(
        f"\n{n_votes} votes, {args.items} items; load average {np.mean(loads):.1f} (min {min(loads):.1f})"
    )
    print(
        "\n| process | wall min s | wall median s | CPU min s | crowd-kit / this (wall) | "
        "crowd-kit / this (CPU) | accuracy |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        a = "" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        print(
            f"| {r['tool']} | {r['min_s']:.2f} | {r['median_s']:.2f} | {r['cpu_min_s']:.2f} | "
            f"{r['speedup_vs_crowdkit_min']:.2f}× | {r['cpu_speedup_vs_crowdkit']:.2f}× | {a} |"
        )
    print(f"\ndefault chose {summary.get('method')}: {summary.get('method_reason')}")
    print("\nprofile of the default command (cProfile, in-process; CPU seconds):")
    for k, v in profile.items():
        print(f"  {k}: {v}")
    print(f"\nwrote {write_results('aggregate_e2e', results)}")


if __name__ == "__main__":
    main()
