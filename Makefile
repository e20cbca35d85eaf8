# Two commands for everybody: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FRONTEND_SOURCES := $(shell find frontend -type f 2>/dev/null) package.json
BUNDLE := shopcast/web/static/dist/manager.js

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint browser-tests unit-tests setup frontend chromium clean

## Serve Shopcast with demo data on the embedded default (SQLite, in-process bus).
run: setup frontend
	$(VENV)/bin/shopcast demo

## Lint, then the whole suite: browser tests in a loopback-only namespace, then everything else.
test: setup frontend chromium lint browser-tests unit-tests

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

browser-tests: setup frontend chromium
	scripts/loopback-only $(PY) -m pytest -m browser tests/e2e

unit-tests: setup
	$(PY) -m pytest -m "not browser" --ignore=tests/e2e

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

clean:
	rm -rf $(VENV) node_modules shopcast/web/static/dist test-results
