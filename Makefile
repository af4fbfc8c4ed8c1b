# RSP Metrics Dashboard: every command the README quotes. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
REPLICAS ?= 2

.DEFAULT_GOAL := help
.PHONY: help run serve test e2e a11y lighthouse lint format init migrate load bench mutate demo-data ct-data clean system-packages

help: ## list the commands
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Debian's Chromium for the browser tests (Playwright's own browser download does not work here),
# Debian's PostgreSQL server, which the tests start themselves on a loopback port, and nginx, the
# sticky proxy in front of several app processes (`make serve`, `make load`, the load-script tests), and
# Debian's node and npm for axe-core (the accessibility tests; the app itself needs no node).
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	PATH="$$PATH:/usr/sbin:/usr/local/sbin" command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing with apt-get:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: $(VENV)/.runtime ## set up, open the embedded store, start the app and run its first page once: http://localhost:8501
	$(BIN)/python scripts/serve_replicas.py --direct --address 0.0.0.0 --port $(PORT)

serve: $(VENV)/.runtime system-packages ## REPLICAS app processes (default 2) behind nginx with sticky sessions, on PORT
	$(BIN)/python scripts/serve_replicas.py --replicas $(REPLICAS) --port $(PORT)

# axe-core, pinned in package.json (no dependencies of its own, so no lock file is needed).
node_modules/axe-core/axe.min.js: package.json | system-packages
	npm install --no-package-lock --no-audit --no-fund --silent
	touch $@

test: $(VENV)/.dev system-packages node_modules/axe-core/axe.min.js ## set up and run every test (queries, pages, browser, accessibility)
	$(BIN)/python -m pytest

a11y: $(VENV)/.dev system-packages node_modules/axe-core/axe.min.js ## the accessibility tests alone: axe-core in Chromium, keyboard, contrast, text alternatives
	$(BIN)/python -m pytest tests/test_a11y.py tests/test_contrast.py tests/test_alt_text.py

e2e: $(VENV)/.dev system-packages node_modules/axe-core/axe.min.js ## the real-browser tests alone
	$(BIN)/python -m pytest -m browser

# Lighthouse 12.2.3, the newest 12.x that installs on Debian's Node 20, with many dependencies of its own: never
# saved to package.json, since only `make lighthouse` and `make browser-bench` need it, not `make test`.
node_modules/.bin/lighthouse: | system-packages
	npm install --no-save --no-package-lock --no-audit --no-fund --silent lighthouse@12.2.3

lighthouse: $(VENV)/.dev system-packages node_modules/.bin/lighthouse ## Lighthouse 12's accessibility score per page (a second opinion beside make a11y)
	$(BIN)/python scripts/lighthouse.py

lint: $(VENV)/.dev ## ruff check and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(VENV)/.dev ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

init: $(VENV)/.runtime ## create/upgrade the store DATABASE_URL names, with the demo data
	$(BIN)/python -m rsp_data init --demo

migrate: $(VENV)/.runtime ## upgrade the schema of the store DATABASE_URL names (Alembic), keeping its data
	$(BIN)/python -m rsp_data init

demo-data: $(VENV)/.dev ## regenerate rsp_data/data/demo_metrics.csv (seeded: same output every run)
	$(BIN)/python -m rsp_data.demo

ct-data: $(VENV)/.dev ## rebuild rsp_data/data/ct_*.csv|geojson and published_figures.csv from data/ct/
	$(BIN)/python scripts/build_ct_data.py

load: $(VENV)/.dev system-packages ## load test: 10, 25, 50, 100 sessions, 60 s each, 1 process and 2 replicas; into docs/benchmarks.md
	$(BIN)/python scripts/load.py --sessions 10 25 50 100 --duration 60 --replicas 1 2

# SIZES: monthly rows per size (default 1 and 10 million); BENCH_ARGS: more options of scripts/bench.py.
SIZES ?= 1000000 10000000
bench: $(VENV)/.dev system-packages ## scale benchmark: queries at 1M and 10M rows, SQLite + PostgreSQL vs pandas and DuckDB, into docs/benchmarks.md
	$(BIN)/python scripts/bench.py --sizes $(SIZES) $(BENCH_ARGS)

# The files mutated are pyproject.toml's [tool.mutmut] only_mutate; MUTANTS: mutmut name patterns to test
# alone (e.g. MUTANTS='queries.suppression*'), default every mutant of those files (hours on 2 cores).
MUTANTS ?=
mutate: $(VENV)/.dev ## mutation testing (mutmut) of the query and rollup code on SQLite: prints the score, survivors
	$(BIN)/python scripts/mutate.py $(MUTANTS)

clean: ## remove the virtual environment, node_modules and the embedded store
	rm -rf $(VENV) var node_modules

# ---- Browser timings (scripts/browser_bench.py): beside each page, a bare Streamlit app; Lighthouse's figures.
BROWSER_BENCH_ARGS ?=
.PHONY: browser-bench
browser-bench: $(VENV)/.dev system-packages node_modules/.bin/lighthouse ## browser timings: every page and slide vs a bare app, Lighthouse; into docs/benchmarks.md
	CHROME_PATH=$$(command -v chromium) $(BIN)/python scripts/browser_bench.py $(BROWSER_BENCH_ARGS)
