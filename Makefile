# Every target here is exactly what CI runs (.ci/run calls `make test`).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install up test lint validate unit integration bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

up: install
	$(VENV)/bin/modelcat up

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

validate: install
	$(VENV)/bin/dagster definitions validate -w workspace.yaml

test: lint validate
	$(PY) -m pytest

unit: install
	$(PY) -m pytest tests/unit

bench: install
	$(PY) bench/bench_pipeline.py
	$(PY) bench/bench_mcda.py
	$(PY) bench/bench_serving.py
	$(PY) bench/bench_catalog.py
	$(PY) bench/bench_recovery.py

clean:
	rm -rf $(VENV) .modelcat
