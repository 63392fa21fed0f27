# Every target sets up .venv on first use, so a fresh clone needs nothing but `make`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help setup lock demo demo-ui ui test check lint format typecheck graph bench soak dev sandbox clean

help:
	@echo "make demo    run the pipeline on the embedded sandbox and print what it found"
	@echo "make test    run the test suite"
	@echo "make check   ruff, ruff format --check, mypy, tests (the gate before every commit)"
	@echo "make lock    regenerate requirements.lock with uv (LOCK_ARGS=--upgrade for newest versions)"
	@echo "make graph   rewrite tests/fixtures/asset_graph.json after a deliberate change to the assets"
	@echo "make bench   benchmarks (slow; ratios against a baseline, see docs/benchmarks.md)"
	@echo "make soak    slow tests, then fault soaks with killed runs (SOAK_ARGS='--seeds 5 --kills 2')"
	@echo "make sandbox serve the sandbox on loopback (prints base URL and credentials)"
	@echo "make dev     the Dagster UI on this project"
	@echo "make demo-ui the Dagster UI on the demo's instance, with the demo's runs"
	@echo "make ui      the triage app (recon ui) on the published warehouse (UI_PORT=8780)"
	@echo "make report-screenshot  the demo's HTML report and a PNG of it (data/reports/; installs chromium)"

# Installs come from requirements.lock (exact versions with hashes; `make lock` writes it), then
# the project itself without dependencies, so every install gets the same packages.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# uv resolves pyproject.toml (with the dev extra) for every platform on Python 3.11+; it lives in a
# tool venv of its own, not in the lock. Pins already in the lock are kept while pyproject.toml
# allows them: `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed versions.
UV_VERSION ?= 0.13.9
UV_VENV := $(VENV)/uv-tool
LOCK_ARGS ?=

lock:
	test -x $(UV_VENV)/bin/uv || ($(PYTHON) -m venv $(UV_VENV) && \
		$(UV_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION))
	$(UV_VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --quiet $(LOCK_ARGS) -o requirements.lock

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/recon demo

test: $(STAMP) postgres-bin chromium-bin
	$(BIN)/python -m pytest -n 2 --dist worksteal -m "not slow" $(PYTEST_ARGS)

# The triage app's browser test drives Debian's chromium through Playwright (executable_path);
# no browser build is ever downloaded (`playwright install` is never run).
.PHONY: chromium-bin
chromium-bin:
	command -v chromium >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

UI_PORT ?= 8780
ui: $(STAMP)
	$(BIN)/recon ui --port $(UI_PORT)

# The production profile's tests start a throwaway PostgreSQL server from Debian's binaries
# (tests/support/postgres.py); apt is touched only when none is installed.
.PHONY: postgres-bin
postgres-bin:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

# The asset graph is a reviewed artefact (docs/layout.md): tests fail until this is rerun.
graph: $(STAMP)
	$(BIN)/python -W ignore -m tests.support.graph

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.publish
	$(BIN)/python -m benchmarks.chain_gap
	$(BIN)/python -m benchmarks.landing
	$(BIN)/python -m benchmarks.nightly

# Slow tests, then sandbox worlds with every fault on and runs killed at random (tests/soak.py).
SOAK_ARGS ?=
soak: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS) || test $$? -eq 5
	$(BIN)/python -m tests.soak $(SOAK_ARGS)

sandbox: $(STAMP)
	$(BIN)/recon sandbox serve --port 8765

dev: $(STAMP)
	mkdir -p data/dagster && cp -n dagster.yaml data/dagster/ && DAGSTER_HOME=$(CURDIR)/data/dagster $(BIN)/dagster dev -m pipelines.definitions

# The demo keeps its own instance beside its warehouse (data/demo/dagster): its runs are there.
demo-ui: $(STAMP)
	test -d data/demo/dagster || $(BIN)/recon demo
	DAGSTER_HOME=$(CURDIR)/data/demo/dagster RECON_DATA_DIR=$(CURDIR)/data/demo $(BIN)/dagster dev -m pipelines.definitions

# Headless Chromium with everything that would reach the network switched off: the report needs
# none. --log-level=3: on a server without D-Bus Chromium logs a dozen harmless ERROR lines. A screenshot is one window, so the window is as tall as the page is estimated to be.
REPORT := data/reports/recon-report.html
.PHONY: report-screenshot
report-screenshot: $(STAMP)
	$(MAKE) chromium-bin
	test -f data/demo/warehouse.duckdb || $(BIN)/recon demo
	RECON_DATA_DIR=data/demo $(BIN)/recon report --out $(REPORT)
	rows=$$(grep -o '<tr>' $(REPORT) | wc -l); charts=$$(grep -o '<svg' $(REPORT) | wc -l); \
	height=$$((1600 + 48 * rows + 420 * charts)); profile=$$(mktemp -d); \
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --log-level=3 \
		--disable-background-networking --disable-component-update --disable-sync \
		--host-resolver-rules="MAP * ~NOTFOUND" \
		--user-data-dir=$$profile --window-size=1400,$$((height < 16000 ? height : 16000)) \
		--hide-scrollbars --screenshot=$(CURDIR)/data/reports/recon-report.png \
		file://$(CURDIR)/$(REPORT); \
	status=$$?; rm -rf $$profile; exit $$status
	@echo "data/reports/recon-report.png"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
