# Every target here is exactly what CI runs (.ci/run calls `make test`).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install up test lint validate unit integration bench clean

PGLITE := tests/support/pglite
PGLITE_STAMP := $(PGLITE)/node_modules/.installed

install: $(STAMP)

$(STAMP): pyproject.toml harness/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The harness is its own distribution (it runs in the GPU pod without the platform).
	$(PY) -m pip install -q -e ".[dev,harness]" -e "./harness[transformers,nvml,s3,openai]"
	touch $(STAMP)

# PGlite with TimescaleDB: the real TimescaleDB the tests run against (versions: package-lock).
$(PGLITE_STAMP): $(PGLITE)/package.json $(PGLITE)/package-lock.json
	cd $(PGLITE) && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error
	touch $(PGLITE_STAMP)

up: install
	$(VENV)/bin/modelcat up

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

validate: install
	$(VENV)/bin/dagster definitions validate -w workspace.yaml

test: lint validate $(PGLITE_STAMP)
	$(PY) -m pytest

unit: install
	$(PY) -m pytest tests/unit

bench: install $(PGLITE_STAMP)
	$(PY) bench/bench_pipeline.py
	$(PY) bench/bench_mcda.py
	$(PY) bench/bench_serving.py
	$(PY) bench/bench_catalog.py
	$(PY) bench/bench_recovery.py
	$(PY) bench/bench_registry.py
	$(PY) bench/bench_timescale.py

clean:
	rm -rf $(VENV) .modelcat
