# Two commands for everybody: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FRONTEND_SOURCES := $(shell find frontend -type f 2>/dev/null) package.json
BUNDLE := shopcast/web/static/dist/manager.js

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint browser-tests unit-tests setup frontend chromium nginx clean mutants screenshots

## Serve Shopcast with demo data on the embedded default (SQLite, in-process bus).
run: setup frontend
	$(VENV)/bin/shopcast demo

## Lint, then the whole suite: browser tests in a loopback-only namespace, then everything else.
test: setup frontend chromium nginx lint browser-tests unit-tests

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

browser-tests: setup frontend chromium
	scripts/loopback-only $(PY) -m pytest -m browser tests/e2e

## One test process per core (each with its own PostgreSQL database); TEST_WORKERS=0 runs them in this one.
TEST_WORKERS ?= auto
unit-tests: setup nginx
	$(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses 8 -m "not browser" --ignore=tests/e2e

## The README's screenshots (docs/screenshots/), from a live demo show in English and in French.
screenshots: setup frontend chromium
	scripts/loopback-only $(PY) -m pytest -q -m browser tests/e2e/screenshots.py

## Mutation testing (docs/mutants.md), not part of `make test`: each module in MUTATE in turn, niced,
## with PostgreSQL and Redis running as for the tests. `make mutants MUTATE=shopcast.catalog.deals` for one.
MUTATE ?= shopcast.catalog.stock shopcast.catalog.deals shopcast.catalog.lineup shopcast.chat.service \
	shopcast.chat.text shopcast.catalog.orders shopcast.core.security shopcast.core.bus
mutants: $(VENV)/.mutants
	set -e; for module in $(MUTATE); do nice -n 10 $(VENV)/bin/mutmut run --max-children 2 "$$module.*"; done
	$(VENV)/bin/mutmut results

$(VENV)/.mutants: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --editable '.[dev,mutants]'
	touch $@

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --editable '.[dev]'
	touch $@

frontend: $(BUNDLE)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(BUNDLE): node_modules/.package-lock.json $(FRONTEND_SOURCES)
	npm run build

## Debian's Chromium for the browser tests (never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }

## Debian's nginx for the deployment test (two replicas behind the proxy of deploy/nginx.conf); the
## test starts its own on 127.0.0.1, the package's service is never needed.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends nginx; }

clean:
	rm -rf $(VENV) node_modules shopcast/web/static/dist test-results mutants
