# Every target sets up .venv on first use, so a fresh clone needs nothing but `make`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help setup demo test check lint format typecheck bench soak dev sandbox clean

help:
	@echo "make demo    run the pipeline on the embedded sandbox and print what it found"
	@echo "make test    run the test suite"
	@echo "make check   ruff, ruff format --check, mypy, tests (the gate before every commit)"
	@echo "make bench   benchmarks (slow; ratios against a baseline, see docs/benchmarks.md)"
	@echo "make soak    slow tests kept out of the default suite"
	@echo "make sandbox serve the sandbox on loopback (prints base URL and credentials)"
	@echo "make dev     the Dagster UI on this project"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/recon demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

soak: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

sandbox: $(STAMP)
	$(BIN)/recon sandbox serve --port 8765

dev: $(STAMP)
	mkdir -p data/dagster && cp -n dagster.yaml data/dagster/ && DAGSTER_HOME=$(CURDIR)/data/dagster $(BIN)/dagster dev -m pipelines.definitions

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
