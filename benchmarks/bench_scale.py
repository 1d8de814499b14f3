"""Scale benchmark: the audit core, the text audit and Dawid–Skene at 1M–10M rows.

Every measurement runs in its own subprocess under ``/usr/bin/time -v`` so the peak
RSS is the process's own. Baselines in the same run: the in-memory truelabel functions
(``truelabel.audit.find_label_issues`` + ``get_label_quality`` on the same memory-mapped
input; ``truelabel.aggregate.DawidSkene`` on the same votes).

    .venv/bin/python benchmarks/bench_scale.py            # full: 1M, 10M, text 10k/100k/1M
    .venv/bin/python benchmarks/bench_scale.py --quick    # small sizes, a smoke run
    .venv/bin/python benchmarks/bench_scale.py --parts core,ds --quick

Writes ``benchmarks/results/scale.json`` (merged with earlier parts of the same file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "scale.json"
WORK = Path(os.environ.get("TRUELABEL_BENCH_DIR", tempfile.gettempdir())) / "truelabel-bench-scale"


# --------------------------------------------------------------------------- subprocess runner


def run_child(args: list[str], timeout: float = 3600) -> dict[str, Any]:
    """Run this script as ``--child ...`` under /usr/bin/time -v; return its JSON + peak RSS."""
    cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--child", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    out: dict[str, Any] = {"process_wall_s": round(wall, 2)}
    if m:
        out["peak_rss_mb"] = round(int(m.group(1)) / 1024, 1)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        out["error"] = proc.stderr[-2000:]
        return out
    out.update(json.loads(lines[-1][len("RESULT ") :]))
    return out


def emit(obj: dict[str, Any]) -> None:
    print("RESULT " + json.dumps(obj), flush=True)


# --------------------------------------------------------------------------- data


def make_probs(n: int, k: int, folder: Path, seed: int = 0, noise: float = 0.1) -> None:
    """labels.npy (N,) int32 and probs.npy (N, K) float32 written in chunks (never all in RAM)."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "done").exists():
        return
    rng = np.random.default_rng(seed)
    labels = np.lib.format.open_memmap(folder / "labels.npy", "w+", np.int32, (n,))
    truth = np.lib.format.open_memmap(folder / "truth.npy", "w+", np.int32, (n,))
    probs = np.lib.format.open_memmap(folder / "probs.npy", "w+", np.float32, (n, k))
    step = 500_000
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        y = rng.integers(0, k, hi - lo)
        logits = rng.normal(size=(hi - lo, k)).astype(np.float32) * 1.5
        logits[np.arange(hi - lo), y] += 4.0
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        given = np.where(rng.random(hi - lo) < noise, rng.integers(0, k, hi - lo), y)
        labels[lo:hi] = given
        truth[lo:hi] = y
        probs[lo:hi] = p
    labels.flush()
    probs.flush()
    truth.flush()
    del labels, probs, truth
    (folder / "done").write_text("ok")


def make_text(n: int, path: Path, seed: int = 0, noise: float = 0.1) -> None:
    """AG News test (title + description, 7,600 rows, 4 classes) replicated to n rows.

    A copy gets its labels re-drawn independently: ``noise`` of rows get a different
    random class (recorded in ``flipped``). Copies of one text are exact duplicates.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    src = pd.read_csv(DATASETS / "text" / "ag_news" / "test.csv")
    cols = list(src.columns)
    texts = (src[cols[1]].astype(str) + ". " + src[cols[2]].astype(str)).to_numpy(dtype=object)
    y = src[cols[0]].to_numpy().astype(np.int64) - src[cols[0]].min()
    names = np.array(["World", "Sports", "Business", "Sci/Tech"], dtype=object)
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    step = 100_000
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        idx = np.arange(lo, hi) % len(texts)
        flip = rng.random(hi - lo) < noise
        other = (y[idx] + rng.integers(1, 4, hi - lo)) % 4
        given = np.where(flip, other, y[idx])
        table = pa.table(
            {
                "text": texts[idx],
                "label": names[given],
                "true_label": names[y[idx]],
                "flipped": flip,
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=50_000)
    assert writer is not None
    writer.close()


def make_votes(
    n_items: int, n_sources: int, votes_per_item: int, k: int, folder: Path, seed: int = 0
) -> None:
    """A vote store of n_items x votes_per_item votes from n_sources workers of varied skill."""
    if (folder / "meta.json").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    acc = rng.uniform(0.45, 0.95, n_sources)
    n_votes = n_items * votes_per_item
    item = np.repeat(np.arange(n_items, dtype=np.int32), votes_per_item)
    truth = rng.integers(0, k, n_items).astype(np.int32)
    source = np.empty(n_votes, dtype=np.int32)
    label = np.empty(n_votes, dtype=np.int32)
    step = 2_000_000
    for lo in range(0, n_votes, step):
        hi = min(lo + step, n_votes)
        s = rng.integers(0, n_sources, hi - lo).astype(np.int32)
        right = rng.random(hi - lo) < acc[s]
        wrong = (truth[item[lo:hi]] + rng.integers(1, k, hi - lo)) % k
        source[lo:hi] = s
        label[lo:hi] = np.where(right, truth[item[lo:hi]], wrong)
    np.save(folder / "item.npy", item)
    np.save(folder / "source.npy", source)
    np.save(folder / "label.npy", label)
    np.save(folder / "gold.npy", np.full(n_items, -1, dtype=np.int64))
    np.save(folder / "truth.npy", truth)
    meta = {
        "n_items": n_items,
        "n_sources": n_sources,
        "n_classes": k,
        "classes": [str(c) for c in range(k)],
        "source_names": [f"w{s}" for s in range(n_sources)],
        "is_gold_source": [False] * n_sources,
    }
    (folder / "meta.json").write_text(json.dumps(meta))


# --------------------------------------------------------------------------- children


def child(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "core_stream":
        from truelabel.scale import audit_probabilities

        folder, max_memory = Path(argv[1]), argv[2]
        t0 = time.perf_counter()
        res = audit_probabilities(
            str(folder / "labels.npy"), str(folder / "probs.npy"), max_memory=max_memory
        )
        wall = time.perf_counter() - t0
        np.save(folder / "flags_stream.npy", res.is_label_issue)
        emit(
            {
                "wall_s": round(wall, 2),
                "n_flagged": int(res.is_label_issue.sum()),
                "chunk_rows": res.chunk_rows,
                "n_chunks": res.n_chunks,
            }
        )
    elif kind == "core_inmem":
        from truelabel.audit import find_label_issues, get_label_quality

        folder = Path(argv[1])
        labels = np.load(folder / "labels.npy")
        probs = np.load(folder / "probs.npy", mmap_mode="r")
        t0 = time.perf_counter()
        flags = find_label_issues(labels, probs)
        get_label_quality(labels, probs)
        wall = time.perf_counter() - t0
        np.save(folder / "flags_inmem.npy", flags)
        emit({"wall_s": round(wall, 2), "n_flagged": int(flags.sum())})
    elif kind == "text":
        import pandas as pd

        from truelabel.scale import audit_large

        path, out, max_memory, learner = Path(argv[1]), Path(argv[2]), argv[3], argv[4]
        t0 = time.perf_counter()
        res = audit_large(
            path,
            out=out,
            label="label",
            text="text",
            featurizer="static",
            learner=learner,
            max_memory=max_memory,
            overwrite=True,
            progress=False,
        )
        wall = time.perf_counter() - t0
        issues = pd.read_parquet(out / "issues", columns=["row", "is_label_issue"])
        flags = issues.sort_values("row")["is_label_issue"].to_numpy()
        flipped = pd.read_parquet(path, columns=["flipped"])["flipped"].to_numpy()
        tp = int((flags & flipped).sum())
        emit(
            {
                "wall_s": round(wall, 2),
                "n_flagged": int(flags.sum()),
                "precision": round(tp / max(int(flags.sum()), 1), 4),
                "recall": round(tp / max(int(flipped.sum()), 1), 4),
                "timings_s": res.summary["timings_s"],
                "learner": res.summary["settings"]["learner"],
                "chunk_rows": res.summary["settings"]["chunk_rows"],
            }
        )
    elif kind == "ds_stream":
        from truelabel.scale import ChunkedDawidSkene

        folder, max_memory = Path(argv[1]), argv[2]
        t0 = time.perf_counter()
        m = ChunkedDawidSkene(max_memory=max_memory, max_iter=int(argv[3])).fit(folder)
        wall = time.perf_counter() - t0
        truth = np.load(folder / "truth.npy")
        np.save(folder / "post_stream.npy", m.posterior_)
        emit(
            {
                "wall_s": round(wall, 2),
                "n_iter": m.n_iter_,
                "n_chunks": m.n_chunks_,
                "accuracy": round(float((m.labels_ == truth).mean()), 4),
            }
        )
    elif kind == "ds_inmem":
        from truelabel.aggregate import DawidSkene
        from truelabel.sources import VoteArrays

        folder = Path(argv[1])
        meta = json.loads((folder / "meta.json").read_text())
        v = VoteArrays(
            item=np.load(folder / "item.npy"),
            source=np.load(folder / "source.npy"),
            label=np.load(folder / "label.npy"),
            n_items=meta["n_items"],
            n_sources=meta["n_sources"],
            n_classes=meta["n_classes"],
            item_ids=np.arange(meta["n_items"]),
            source_names=np.array(meta["source_names"], dtype=object),
            classes=np.arange(meta["n_classes"]),
            is_gold_source=np.zeros(meta["n_sources"], dtype=bool),
        )
        t0 = time.perf_counter()
        m = DawidSkene(max_iter=int(argv[2])).fit(v)
        wall = time.perf_counter() - t0
        truth = np.load(folder / "truth.npy")
        np.save(folder / "post_inmem.npy", m.posterior_)
        emit(
            {
                "wall_s": round(wall, 2),
                "n_iter": m.n_iter_,
                "accuracy": round(float((m.labels_ == truth).mean()), 4),
            }
        )
    else:
        raise SystemExit(f"unknown child {kind}")


# --------------------------------------------------------------------------- parts


def part_core(quick: bool) -> dict[str, Any]:
    sizes = [100_000] if quick else [1_000_000, 10_000_000]
    k = 20
    out: dict[str, Any] = {"k": k, "rows": []}
    for n in sizes:
        folder = WORK / f"probs_{n}_{k}"
        t0 = time.perf_counter()
        make_probs(n, k, folder)
        print(f"[core] data {n:,} x {k} ready ({time.perf_counter() - t0:.0f}s)", flush=True)
        stream = run_child(["core_stream", str(folder), "2GB"])
        print(f"[core] stream {n:,}: {stream}", flush=True)
        inmem = run_child(["core_inmem", str(folder)])
        print(f"[core] in-memory {n:,}: {inmem}", flush=True)
        same = None
        if (folder / "flags_stream.npy").exists() and (folder / "flags_inmem.npy").exists():
            a, b = np.load(folder / "flags_stream.npy"), np.load(folder / "flags_inmem.npy")
            same = {
                "identical": bool((a == b).all()),
                "n_differ": int((a != b).sum()),
                "jaccard": round(float((a & b).sum() / max((a | b).sum(), 1)), 6),
            }
        input_mb = round(n * k * 4 / 2**20, 1)
        out["rows"].append(
            {
                "n": n,
                "input_mb": input_mb,
                "streaming": stream,
                "in_memory": inmem,
                "same_flags": same,
                "streaming_rows_per_s": round(n / stream["wall_s"]) if "wall_s" in stream else None,
            }
        )
    return out


def part_text(quick: bool) -> dict[str, Any]:
    sizes = [10_000, 30_000] if quick else [10_000, 100_000, 1_000_000]
    out: dict[str, Any] = {
        "featurizer": "static",
        "dataset": "AG News test replicated, 10% flips",
        "rows": [],
    }
    for n in sizes:
        path = WORK / f"text_{n}.parquet"
        make_text(n, path)
        res = run_child(
            ["text", str(path), str(WORK / f"run_text_{n}"), "4GB", "incremental"], timeout=5400
        )
        if "wall_s" in res:
            res["rows_per_s"] = round(n / res["wall_s"])
            res["us_per_row"] = round(res["wall_s"] / n * 1e6, 1)
        print(f"[text] {n:,}: {res}", flush=True)
        out["rows"].append({"n": n, **res})
        save_partial({"text": out})
    rows = {r["n"]: r for r in out["rows"]}
    if 100_000 in rows and 1_000_000 in rows and "us_per_row" in rows[1_000_000]:
        out["per_row_growth_100k_to_1M"] = round(
            rows[1_000_000]["us_per_row"] / rows[100_000]["us_per_row"], 3
        )
    return out


def part_ds(quick: bool) -> dict[str, Any]:
    n_items, n_sources, per_item, k = (100_000, 200, 10, 4) if quick else (1_000_000, 200, 10, 4)
    folder = WORK / f"votes_{n_items}_{n_sources}_{per_item}"
    t0 = time.perf_counter()
    make_votes(n_items, n_sources, per_item, k, folder)
    print(f"[ds] votes ready ({time.perf_counter() - t0:.0f}s)", flush=True)
    max_iter = 50
    stream = run_child(["ds_stream", str(folder), "1GB", str(max_iter)], timeout=5400)
    print(f"[ds] stream: {stream}", flush=True)
    inmem = run_child(["ds_inmem", str(folder), str(max_iter)], timeout=5400)
    print(f"[ds] in-memory: {inmem}", flush=True)
    diff = None
    if (folder / "post_stream.npy").exists() and (folder / "post_inmem.npy").exists():
        diff = float(
            np.abs(np.load(folder / "post_stream.npy") - np.load(folder / "post_inmem.npy")).max()
        )
    return {
        "n_items": n_items,
        "n_sources": n_sources,
        "n_votes": n_items * per_item,
        "n_classes": k,
        "max_iter": max_iter,
        "streaming_1GB": stream,
        "in_memory": inmem,
        "max_abs_posterior_diff": diff,
    }


def save_partial(update: dict[str, Any]) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.update(update)
    data["machine"] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "note": "2 cores shared with ~8 other agents' jobs (load average "
        "often 10-16): absolute times are pessimistic",
    }
    data["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    import truelabel

    data["versions"] = {"truelabel": truelabel.__version__, "numpy": np.__version__}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--parts", default="core,ds,text")
    args = ap.parse_args()
    parts = args.parts.split(",")
    WORK.mkdir(parents=True, exist_ok=True)
    for name, fn in (("core", part_core), ("ds", part_ds), ("text", part_text)):
        if name in parts:
            res = fn(args.quick)
            res["quick"] = args.quick
            save_partial({name: res})
    print(json.dumps(json.loads(RESULTS.read_text()), indent=1)[:4000])


if __name__ == "__main__":
    main()
