# The front door. `make` lists the targets; every target that needs the Python or npm
# environment depends on `setup`, which is quick when nothing changed.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
DBT := $(VENV)/bin/dbt

# dbt always finds the project's profiles and project: nobody types --profiles-dir.
export DBT_PROFILES_DIR := $(CURDIR)/profiles
export DBT_PROJECT_DIR := $(CURDIR)/dbt_project
export DO_NOT_TRACK := 1
export WAREHOUSE_TARGET ?= dev
# Real and sample data live in different files (a warehouse refuses the other kind, exit 1):
# the sample targets write SAMPLE_WAREHOUSE_PATH; SAMPLE=1 points every other target at it
# (`make build reports SAMPLE=1`), as `make demo` does.
SAMPLE_WAREHOUSE_PATH ?= $(CURDIR)/data/sample/warehouse.duckdb
# A relative path (`make reports WAREHOUSE_PATH=data/x.duckdb`, or from the environment) is
# made absolute here, against this folder: some recipes run from reports/.
override SAMPLE_WAREHOUSE_PATH := $(abspath $(SAMPLE_WAREHOUSE_PATH))
ifeq ($(SAMPLE),1)
override WAREHOUSE_PATH := $(SAMPLE_WAREHOUSE_PATH)
endif
WAREHOUSE_PATH ?= $(CURDIR)/data/warehouse.duckdb
override WAREHOUSE_PATH := $(abspath $(WAREHOUSE_PATH))
export WAREHOUSE_PATH
# The Evidence app reads the same warehouse file. @evidence-dev/duckdb joins the value onto
# reports/sources/warehouse/, so it must be relative to that folder.
# On MotherDuck (WAREHOUSE_TARGET=motherduck) it reads the database by name (md:...), as dbt does.
ifeq ($(WAREHOUSE_TARGET),motherduck)
export EVIDENCE_SOURCE__warehouse__filename := md:$(or $(MOTHERDUCK_DATABASE),market_warehouse)
else
export EVIDENCE_SOURCE__warehouse__filename := $(shell realpath -m --relative-to=$(CURDIR)/reports/sources/warehouse $(WAREHOUSE_PATH))
endif

# The test warehouse: a fixed sample (pinned as-of date) so test runs are reproducible.
TEST_WAREHOUSE := $(CURDIR)/data/ci/warehouse.duckdb
TEST_AS_OF := 2026-11-20
BROKERAGE_INBOX ?= $(CURDIR)/data/brokerage_inbox
MOCK_BROKER_TOKEN ?= mock-broker-token
DOCS_PORT ?= 8080
DBT_ARGS ?=
BENCH_ARGS ?=
REPORTS_PORT ?= 4173
# dbt and the reports build hold the warehouse's writer lock for their whole run (ingest
# commands take it themselves), so a second writer is refused even during dbt's parse.
LOCKED := $(PY) -m ingest with-lock --

.PHONY: help setup setup-browser demo ingest ingest-sample ingest-brokerage ingest-brokerage-mock build test lint docs docs-serve reports \
	reports-dev reports-serve bench freshness check-warehouse lock clean clean-all replay

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(VENV)/.installed reports/node_modules/.installed tools/node_modules/.installed ## create .venv and install Python and npm dependencies (idempotent)

# Every package is pinned with its hashes and pip refuses a file whose hash is not in the lock;
# the project itself cannot be hashed, so it goes in editable after, without its dependencies,
# built by the locked setuptools (no isolated build environment fetching an unpinned one).
# dev/ (the sample world and the mock broker: development code, not in the shipped package)
# goes in the same way.
$(VENV)/.installed: pyproject.toml dev/pyproject.toml requirements.lock requirements-dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . -e dev
	@touch $@

reports/node_modules/.installed: reports/package.json reports/package-lock.json reports/scripts/patch-universal-sql.cjs
	cd reports && npm ci --no-audit --no-fund
	@touch $@

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	@touch $@

# Headless Chromium for the report page tests (Debian's package; puppeteer-core drives it).
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser || command -v google-chrome)
setup-browser:
	@if [ -n "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium (Debian package) for the report page tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "error: the report page tests need Chromium: install the 'chromium' package" >&2; exit 1; \
	fi

demo: setup ## the whole job on the offline sample, in the sample warehouse: generate -> load -> dbt build -> freshness -> reports build
	@$(MAKE) SAMPLE=1 ingest-sample
	@$(MAKE) SAMPLE=1 ingest-brokerage-mock
	@$(MAKE) SAMPLE=1 build
	@# For the data-quality page's freshness table; a stale source is a finding, not a failed demo.
	@$(MAKE) SAMPLE=1 freshness || echo "make demo: a source is stale or its check failed: the data-quality page says which"
	@$(MAKE) SAMPLE=1 reports
	@echo
	@echo "Demo done."
	@echo "  warehouse : $(SAMPLE_WAREHOUSE_PATH) ($$(du -h $(SAMPLE_WAREHOUSE_PATH) | cut -f1)), the sample's own file"
	@echo "  query it  : $(VENV)/bin/python -c \"import duckdb; print(duckdb.connect('$(SAMPLE_WAREHOUSE_PATH)', read_only=True).sql('select * from marts.fct_price_features_daily limit 5'))\""
	@echo "  reports   : make reports-serve  -> http://127.0.0.1:$(REPORTS_PORT)/  (static build in reports/build)"
	@echo "  docs      : make docs-serve SAMPLE=1 -> http://127.0.0.1:$(DOCS_PORT)/   (dbt lineage catalog)"

ingest: setup ## daily load from Yahoo Finance, default universe, into the real warehouse (needs the internet)
	$(PY) -m ingest yfinance

# The sample's broker export plants cells that do not parse, on purpose (dbt rejects their
# rows), so its load ends partial (exit 3, the summary line names the file and columns): a
# finding the demo prints, as it does a stale source, not a failed step. Any other code stops.
# Used as `COMMAND || $(SAMPLE_PARTIAL_IS_EXPECTED)` (the recipes run under bash -e).
SAMPLE_PARTIAL_IS_EXPECTED = { code=$$?; if [ $$code -eq 3 ]; then \
	echo "make: the sample load is partial (exit 3), as its planted bad cells make it: the line above names them"; \
	else exit $$code; fi; }

ingest-sample: setup ## generate the offline sample and load it into the sample warehouse (data/sample/)
	WAREHOUSE_PATH=$(SAMPLE_WAREHOUSE_PATH) $(PY) -m ingest sample || $(SAMPLE_PARTIAL_IS_EXPECTED)

ingest-brokerage: setup ## load broker CSV exports dropped in data/brokerage_inbox (BROKERAGE_INBOX=...; each file once)
	$(PY) -m ingest brokerage-csv --inbox $(BROKERAGE_INBOX)

ingest-brokerage-mock: setup ## load the mock broker's REST API (sample data: into the sample warehouse)
	@coproc MOCK { exec $(PY) -m sampleworld.mock_broker --port 0 --token $(MOCK_BROKER_TOKEN); }; \
	trap 'kill $$MOCK_PID 2>/dev/null' EXIT; \
	read -r url <&"$${MOCK[0]}"; \
	SOURCES__BROKERAGE_API__TOKEN=$(MOCK_BROKER_TOKEN) WAREHOUSE_PATH=$(SAMPLE_WAREHOUSE_PATH) \
		$(PY) -m ingest brokerage-api --sample --base-url "$$url"

check-warehouse: setup
	@$(PY) -m ingest check

# Unit tests check the models' code on fixed inputs, so they say nothing about the day's data:
# `make test` (CI) runs them; a build of the warehouse leaves them out, as dbt recommends for
# production runs (54 of them, about 20 s a build whatever the data). UNIT_TESTS=1 runs them too.
BUILD_EXCLUDE = $(if $(UNIT_TESTS),,--exclude-resource-type unit_test)
build: setup ## dbt build (models + data tests; UNIT_TESTS=1: unit tests too) on the warehouse (SAMPLE=1: the sample's); DBT_ARGS=--full-refresh etc. pass through
	$(LOCKED) $(DBT) build $(BUILD_EXCLUDE) $(DBT_ARGS)

freshness: setup ## dbt source freshness on the warehouse
	$(LOCKED) $(DBT) source freshness

# The test files run on TEST_WORKERS pytest-xdist workers, a file's tests in one worker (its
# fixture warehouse is built once). The sample's dbt build comes first: it is a gate of its own,
# and the test files that only read a built sample read that one (TEST_SAMPLE_WAREHOUSE).
TEST_WORKERS ?= 2
test: setup setup-browser ## lint, dbt build of the sample on a fresh test warehouse, then unit, end-to-end and browser tests
	@$(MAKE) lint
	cd reports && node --test scripts/
	rm -rf $(dir $(TEST_WAREHOUSE))
	WAREHOUSE_TARGET=ci WAREHOUSE_PATH=$(TEST_WAREHOUSE) $(PY) -m ingest sample --as-of $(TEST_AS_OF) || $(SAMPLE_PARTIAL_IS_EXPECTED)
	WAREHOUSE_TARGET=ci WAREHOUSE_PATH=$(TEST_WAREHOUSE) $(DBT) build --target ci
	TEST_SAMPLE_WAREHOUSE=$(TEST_WAREHOUSE) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: setup ## pre-commit's hooks on every tracked file: ruff, ruff format, sqlfluff, actionlint, check-yaml, mypy
	$(VENV)/bin/pre-commit run --all-files

docs: setup ## dbt docs generate (the lineage catalog)
	$(LOCKED) $(DBT) docs generate

docs-serve: docs ## serve the dbt docs on 127.0.0.1:8080 (DOCS_PORT=...)
	$(DBT) docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

reports: setup ## build the Evidence reports as a static site (fails on any query error)
	cd reports && REPORTS_PORT=$(REPORTS_PORT) $(LOCKED) bash scripts/build.sh

reports-dev: check-warehouse ## Evidence dev server with live reload
	cd reports && $(LOCKED) npm run sources && npm run dev -- --host 127.0.0.1

reports-serve: ## serve the static reports build on 127.0.0.1:4173 (REPORTS_PORT=...)
	@test -f reports/build/.complete || { echo "error: no complete reports build: run 'make reports' first" >&2; exit 1; }
	$(PYTHON) -m http.server $(REPORTS_PORT) --bind 127.0.0.1 --directory reports/build

# The replay reads the sample warehouse `make demo` filled (REPLAY_FROM=... for another) and
# writes its own file, data/replay/warehouse.duckdb (docs/replay.md).
REPLAY_FROM ?= $(SAMPLE_WAREHOUSE_PATH)
REPLAY_ARGS ?=
replay: setup ## replay the latest session's minute bars at 60x with dbt micro-batches (after make demo; REPLAY_ARGS=--speed 120 ...)
	$(PY) -m ingest replay --from-warehouse $(REPLAY_FROM) $(REPLAY_ARGS)

bench: setup ## benchmarks at scales S, M, L side by side (long: L is 19.7 M bars); writes docs/benchmarks.md
	$(PY) -m bench $(BENCH_ARGS)

# uv (a dev dependency) resolves pyproject.toml for this Python, preferring the versions the
# locks already pin, so only what pyproject.toml's change needs moves: first the runtime set
# (requirements.lock: what a deployment installs), then runtime + dev constrained to it
# (requirements-dev.lock: what `make setup` installs), so both pin the same versions. The build
# requirements are locked too: the editable install builds without isolation.
LOCK_COMPILE = $(PY) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	| $(VENV)/bin/uv pip compile --quiet --python $(PY) --generate-hashes --no-strip-extras \
		--custom-compile-command 'make lock' pyproject.toml -
lock: $(VENV)/.installed ## re-resolve the Python dependencies into requirements.lock and requirements-dev.lock (with hashes)
	$(LOCK_COMPILE) -o requirements.lock
	$(LOCK_COMPILE) --extra dev -c requirements.lock -o requirements-dev.lock

clean: ## remove generated data and build outputs (keeps .venv and node_modules)
	rm -rf data dbt_project/target dbt_project/logs logs reports/build reports/build.previous reports/.evidence/template/static/data reports/build.log

clean-all: clean ## also remove .venv and the node_modules folders
	rm -rf $(VENV) reports/node_modules tools/node_modules
