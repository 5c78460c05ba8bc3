# OpenNRM: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
export PYTHON
UV := $(PYTHON) -m uv
MANAGE := $(UV) run --frozen python manage.py

.PHONY: run test test-suite test-browser test-fuzz audit imports install install-dev assets uv lint types bench clean

## Set up everything and serve the demo on http://127.0.0.1:8000 (SQLite, demo data).
run: export OPENNRM_DEMO ?= true
run: install assets
	$(MANAGE) collectstatic --noinput -v0
	$(MANAGE) migrate --noinput
	$(MANAGE) demo_data
	bin/serve

## Lint, types and the whole test suite (the browser journeys run separately: make test-browser).
test: install-dev lint types test-suite

# Python caches compiled modules in __pycache__ (git-ignored). An environment that turns that off
# (PYTHONDONTWRITEBYTECODE, as many containers do) makes every pytest process, and every xdist
# worker, compile Django, Hypothesis, schemathesis and the app from source again: about three
# quarters of the time collection takes. The test targets turn it back on (empty means off).
test-suite test-browser test-fuzz: export PYTHONDONTWRITEBYTECODE =

# The suite runs in one process per core (pytest-xdist): each worker has its own test database
# (SQLite copied from one migrated template, PostgreSQL test_<name>_gw0, _gw1, ...). On a
# two-core machine this takes the PostgreSQL run from about 38 minutes to about half that.
# PYTEST_WORKERS=0 runs it in this process alone (for pdb, or to rule xdist out).
PYTEST_WORKERS ?= auto

test-suite: install-dev
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) -m "not browser and not fuzz" $(PYTEST_ARGS)

## Browser journeys in Debian's Chromium (/usr/bin/chromium), with an axe scan of every page.
test-browser: install-dev assets
	$(UV) run --frozen pytest -m browser $(PYTEST_ARGS)

## The API fuzzed with schemathesis against the live test server (bounded; CI runs it).
test-fuzz: install-dev
	$(UV) run --frozen pytest -m fuzz $(PYTEST_ARGS)

## Known vulnerabilities in the Python dependencies (pip-audit; see docs/dependencies.md).
audit: install-dev
	$(UV) run --frozen python bin/audit-dependencies

## Which app imports which (statements per edge); fails on a cycle among the domain apps.
imports: install-dev
	$(UV) run --frozen python -m opennrm.lib.import_graph src/opennrm

lint: install-dev
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

types: install-dev
	$(UV) run --frozen mypy

# A Python whose packages the system manages (Debian and Ubuntu, PEP 668) refuses a plain pip
# install: uv then goes to the user's own site-packages, which touches none of the system's.
uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv 2>/dev/null \
		|| $(PYTHON) -m pip install --quiet --user --break-system-packages uv

install: uv
	$(UV) sync --frozen
	npm ci --no-audit --no-fund --loglevel=error

install-dev: uv
	$(UV) sync --frozen

assets: node_modules/.package-lock.json
	npm run --silent build

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

bench: install-dev
	@for b in bench/*.py; do [ -e "$$b" ] || continue; echo "== $$b"; $(UV) run --frozen python "$$b" --scale small || exit 1; done

clean:
	rm -rf var src/opennrm/static/dist .pytest_cache .mypy_cache .ruff_cache
