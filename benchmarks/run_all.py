"""Run every benchmark script in turn (``make bench``); each writes benchmarks/results/*.json.

    .venv/bin/python benchmarks/run_all.py [--only audit,aggregate] [--quick]

Scripts that accept ``--quick`` get it with ``--quick``. A failing script is reported and
the others still run; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated name fragments to run")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        keys = args.only.split(",")
        scripts = [s for s in scripts if any(k in s.stem for k in keys)]
    failed = []
    for script in scripts:
        cmd = [sys.executable, str(script)]
        if args.quick and "--quick" in script.read_text():
            cmd.append("--quick")
        print(f"\n=== {script.name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        print(f"=== {script.name}: exit {rc} after {time.perf_counter() - t0:.0f}s", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
