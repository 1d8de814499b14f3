"""Engine equality: ``truelabel audit --engine memory|local|dask`` on the same data.

The same audit must give the same answer whatever runs it: the flagged sets are compared by
Jaccard similarity against ``--engine memory`` (target >= 0.98), the estimated noise rates
side by side, and the files written must be the same set.

Data: the bundled demo sample (2,000 Banking77 rows with injected errors), a Banking77 train
sample with its own labels (real data), and optionally ``--big N`` rows sampled with
replacement from the real Banking77 + AG News texts (their own labels).

    PYTHONPATH=src python benchmarks/bench_engines.py [--big 200000] [--featurizer static]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, ROOT, machine, write_results  # noqa: E402

TL = [sys.executable, "-c", "import sys; from truelabel.cli import main; sys.exit(main())"]


def _files(out: Path) -> list[str]:
    return sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "run.json"
    )


def _flagged(out: Path) -> tuple[set[str], dict[str, Any]]:
    summary = json.loads((out / "summary.json").read_text())
    if (out / "issues.parquet").exists():
        df = pd.read_parquet(out / "issues.parquet", columns=["item_id", "is_label_issue"])
    else:  # the old chunked writer: issues/part-*.parquet
        df = pd.concat(
            pd.read_parquet(p, columns=["item_id", "is_label_issue"])
            for p in sorted((out / "issues").glob("part-*.parquet"))
        )
    return set(df.loc[df["is_label_issue"], "item_id"].astype(str)), summary


def run_engine(
    data: Path, out: Path, engine: str, featurizer: str, probs: Path | None = None
) -> dict[str, Any]:
    cmd = [
        *TL,
        "audit",
        str(data),
        "--label-column",
        "label",
        "--text-column",
        "text",
        "--id-column",
        "id",
        "--featurizer",
        featurizer,
        "--out",
        str(out),
        "--engine",
        engine,
    ]
    if engine == "dask":
        cmd += ["--workers", "2"]
    if probs is not None:
        cmd += ["--pred-probs", str(probs)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"engine": engine, "error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    flagged, summary = _flagged(out)
    return {
        "engine": engine,
        "flagged": flagged,
        "noise_rate": summary["noise_rate"],
        "files": _files(out),
        "summary_keys": sorted(summary),
        "seconds": round(secs, 1),
    }


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(len(a | b), 1)


def compare(
    name: str, data: Path, featurizer: str, engines: list[str], probs: Path | None = None
) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = {e: run_engine(data, Path(tmp) / e, e, featurizer, probs) for e in engines}
    base = runs["memory"]
    for e, r in runs.items():
        row: dict[str, Any] = {"data": name, "featurizer": featurizer, "engine": e}
        if "error" in r:
            row["error"] = r["error"]
        else:
            row.update(
                n_flagged=len(r["flagged"]),
                jaccard_vs_memory=round(jaccard(r["flagged"], base.get("flagged", set())), 4),
                noise_rate=round(r["noise_rate"], 4),
                same_files=r["files"] == base.get("files"),
                same_summary_keys=r["summary_keys"] == base.get("summary_keys"),
                files=r["files"],
                seconds=r["seconds"],
            )
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "files"}), flush=True)
    return rows


def banking_sample(path: Path, n: int, seed: int = 0) -> Path:
    df = pd.read_csv(DATA / "text" / "banking77" / "train.csv")
    df = df.sample(n=min(n, len(df)), random_state=seed).reset_index(drop=True)
    pd.DataFrame(
        {"id": [f"b{i}" for i in range(len(df))], "text": df["text"], "label": df["category"]}
    ).to_csv(path, index=False)
    return path


def big_given(tmp: Path, n: int, n_fit: int, seed: int = 0) -> tuple[Path, Path]:
    """``n`` rows drawn with replacement from a Banking77 train sample whose out-of-sample
    probabilities were cross-fitted once (static embedding + logistic, the in-memory audit's
    ``pred_probs.npy``): the table and its ``--pred-probs`` file. Measures the chunked
    confident-learning passes and the writer at size without re-fitting a model per engine."""
    small = banking_sample(tmp / "fit.csv", n_fit, seed)
    out = tmp / "fit_run"
    r = run_engine(small, out, "memory", "static")
    if "error" in r:
        raise SystemExit(f"could not cross-fit the sample: {r['error']}")
    df = pd.read_csv(small)
    probs = np.load(out / "pred_probs.npy")
    idx = np.random.default_rng(seed).integers(0, len(df), n)
    path = tmp / "big_given.parquet"
    pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": df["text"].to_numpy()[idx],
            "label": df["label"].to_numpy()[idx],
        }
    ).to_parquet(path, index=False)
    np.save(tmp / "big_probs.npy", probs[idx])
    return path, tmp / "big_probs.npy"


def big_sample(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` rows drawn with replacement from the real Banking77 train texts (own labels)."""
    df = pd.read_csv(DATA / "text" / "banking77" / "train.csv")
    idx = np.random.default_rng(seed).integers(0, len(df), n)
    pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": df["text"].to_numpy()[idx],
            "label": df["category"].to_numpy()[idx],
        }
    ).to_parquet(path, index=False)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--featurizer", default="static")
    ap.add_argument("--engines", default="memory,local,dask")
    ap.add_argument("--banking", type=int, default=3000, help="rows of the Banking77 sample")
    ap.add_argument("--big", type=int, default=0, help="rows of the large sample (0: skip)")
    ap.add_argument(
        "--big-given", type=int, default=0, help="rows of the large --pred-probs sample (0: skip)"
    )
    ap.add_argument("--skip-small", action="store_true")
    args = ap.parse_args()
    engines = args.engines.split(",")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_small:
            demo = ROOT / "src" / "truelabel" / "data" / "banking77_demo.csv"
            rows += compare("demo (2,000)", demo, args.featurizer, engines)
            b = banking_sample(Path(tmp) / "b77.csv", args.banking)
            rows += compare(f"banking77 ({args.banking:,})", b, args.featurizer, engines)
        if args.big_given:
            big, probs = big_given(Path(tmp), args.big_given, args.banking)
            rows += compare(
                f"b77 resampled, given probs ({args.big_given:,})",
                big,
                args.featurizer,
                engines,
                probs,
            )
        if args.big:
            big = big_sample(Path(tmp) / "big.parquet", args.big)
            rows += compare(f"banking77 resampled ({args.big:,})", big, args.featurizer, engines)
    print(f"\n{'data':34} {'engine':7} {'flagged':>8} {'Jaccard':>8} {'noise':>7} files  s")
    for r in rows:
        if "error" in r:
            print(f"{r['data']:34} {r['engine']:7} ERROR {r['error']}")
            continue
        print(
            f"{r['data']:34} {r['engine']:7} {r['n_flagged']:8d} {r['jaccard_vs_memory']:8.3f} "
            f"{r['noise_rate']:7.3f} {'same' if r['same_files'] else 'DIFF'}  {r['seconds']}"
        )
    write_results(
        f"engines_{args.featurizer}"
        + (f"_{args.big}" if args.big else "")
        + (f"_given{args.big_given}" if args.big_given else "")
        + ("_big_only" if args.skip_small else ""),
        {"machine": machine(), "loadavg": os.getloadavg(), "rows": rows},
    )


if __name__ == "__main__":
    main()
