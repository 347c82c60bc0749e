# Booking engine: developer tasks (GNU make).
#   make venv          create .venv; pip install -r requirements-dev.txt (again only when requirements*.txt change)
#   make node_modules  install DynamoDB Local from package-lock.json (npm ci; again only when it changes)
#   make web           build the browser assets into chalicelib/static/build/ (git-ignored): Timekit's widget from
#                      npm (web/package-lock.json) with its own webpack config, and Swagger UI for /docs
#   make browser       Debian's chromium for the browser tests (apt-get, only when missing; needs root)
#   make run           DynamoDB Local (.data/dynamodb) + demo company + chalice local at http://127.0.0.1:$(PORT)
#                      (PORT=8000 DDB_PORT=8001 BOOKING_ROOT_KEY=... RELOAD=0 to not restart on code changes)
#   make lint          ruff check + ruff format --check + mypy + the import contracts (.importlinter)
#   make test          lint, then pytest on every core (each worker starts its own in-memory DynamoDB Local); PYTEST_ARGS=...
#   make docs          render docs/graphs/<graph>.svg (graphviz) and write docs/openapi.json
#   make screenshots   run the browser tests, saving their pictures to docs/screenshots/ (the README shows them)
#   make asl           write the Step Functions mirrors infra/statemachines/<graph>.asl.json from the graphs
#   make package       STAGE=dev|prod (default dev): dist/<stage>/sam.json + deployment.zip (chalice package
#                      merged with infra/template.yaml); prints the zip's size and contents
#   make cfn-lint      package dev and prod and run cfn-lint over both templates (part of make test)
#   make deploy        STAGE=dev|prod: package, upload to S3 and deploy the CloudFormation stack (needs AWS
#                      credentials, DEPLOY_BUCKET and BOOKING_ROOT_KEY; see README "Deploying to AWS")
#   make schemathesis-costs  measure each schemathesis operation (the halves make test runs side by side)
#   make bench         all benchmarks (devtools/bench.py); one: make bench BENCH=startup; results in .data/bench/
#   make clean         remove .data (local database, demo credentials), dist, caches and the web build;
#                      keeps .venv, node_modules, web/node_modules
# run and test need Java 17+ (for DynamoDB Local) and stop at once without it.

SHELL := /bin/bash
.DEFAULT_GOAL := help
# Independent set-up steps run side by side (pip, the two npm installs and apt wait on the
# network; lint and cfn-lint each use one core). Their lines interleave, and keep coming.
# Only at the top: a sub-make (cfn-lint's packages) shares its job slots.
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += --jobs=3
endif

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
WEB_STAMP := web/node_modules/.installed
WEB_OUT := chalicelib/static/build
WEB_BUILT := $(WEB_OUT)/.built
CHROMIUM := /usr/bin/chromium

# PORT, DDB_PORT, BOOKING_ROOT_KEY, RELOAD reach devtools.local_stack from the
# environment; make passes command-line variables on too (make run PORT=9000).


.PHONY: help venv node_modules web browser java run lint test schemathesis-costs bench docs screenshots asl package cfn-lint deploy clean

help:
	@sed -n '2,22s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The browser assets. npm prints each package it fetches (--loglevel=http): the first install
# takes a minute or two. --ignore-scripts: none of these packages needs an install script, and
# the widget's own dev tooling (puppeteer, karma) is not installed at all.
web: $(WEB_BUILT)

$(WEB_STAMP): web/package.json web/package-lock.json
	@echo "web: installing the widget and its build tools from web/package-lock.json (about 250 packages)"
	cd web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=http
	touch $@

$(WEB_BUILT): $(WEB_STAMP) web/webpack.config.js
	@echo "web: building timekit-booking's src with its webpack.prod.js into $(WEB_OUT)/"
	cd web && npm run --silent build
	cp web/node_modules/swagger-ui-dist/swagger-ui.css web/node_modules/swagger-ui-dist/swagger-ui-bundle.js $(WEB_OUT)/
	touch $@

# Headless Chromium for the browser tests (Playwright drives it through executable_path:
# Playwright's own browser download is not used).
browser: $(CHROMIUM)

$(CHROMIUM):
	@[ "$$(id -u)" = 0 ] || { echo "Chromium is needed for the browser tests: sudo apt-get install -y chromium"; exit 1; }
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

# Stops with the install advice when Java 17+ is missing; devtools.ddb_local
# imports only the standard library, so the system python works before .venv exists.
java:
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -c 'from devtools.ddb_local import require_java; require_java()'

# exec: make's SIGTERM (which make passes on to its child) and Ctrl-C reach the
# Python process itself, which stops chalice and DynamoDB Local.
run: java venv node_modules web
	exec $(PY) -m devtools.local_stack

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Two passes: everything on every core (pytest-xdist; each worker starts its own DynamoDB
# Local), then schemathesis as three plain pytest processes side by side (the in-process run
# in two halves of the operations, and the run over HTTP): its cases are subtests of one node
# id, and a subtest's failure does not survive xdist's round trip (it would pass silently).
# The second half and the HTTP run print their reports after the first half's.
# PYTEST_ARGS=... runs plain pytest with those arguments instead.
test: java venv node_modules web browser lint cfn-lint
ifdef PYTEST_ARGS
	$(VENV)/bin/pytest $(PYTEST_ARGS)
else
	$(VENV)/bin/pytest -n auto --dist loadfile --ignore=tests/api/test_schemathesis.py --ignore=tests/api/test_schemathesis_http.py
	@mkdir -p .data; echo "schemathesis: in-process in two halves, and over HTTP, side by side"
	@SCHEMATHESIS_PART=1/2 $(VENV)/bin/pytest tests/api/test_schemathesis.py > .data/schemathesis-half.log 2>&1 & half=$$!; \
	$(VENV)/bin/pytest tests/api/test_schemathesis_http.py > .data/schemathesis-http.log 2>&1 & http=$$!; \
	SCHEMATHESIS_PART=0/2 $(VENV)/bin/pytest tests/api/test_schemathesis.py; first=$$?; \
	wait $$half; second=$$?; wait $$http; over_http=$$?; \
	cat .data/schemathesis-half.log .data/schemathesis-http.log; \
	[ $$first = 0 ] && [ $$second = 0 ] && [ $$over_http = 0 ]
endif

# What each schemathesis operation costs, for the halves `make test` runs side by side: run it
# when operations are added or get much slower, and commit tests/api/schemathesis_costs.json.
schemathesis-costs: venv
	rm -f tests/api/schemathesis_costs.json.new
	SCHEMATHESIS_COSTS_OUT=tests/api/schemathesis_costs.json.new $(VENV)/bin/pytest -q tests/api/test_schemathesis.py
	mv tests/api/schemathesis_costs.json.new tests/api/schemathesis_costs.json

bench: venv
	$(PY) -m devtools.bench $(BENCH)

# Graph diagrams (Debian's graphviz, installed when missing and we are root) and the OpenAPI document.
docs: venv
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq graphviz; } \
		|| { echo "Graphviz is needed: sudo apt-get install -y graphviz"; exit 1; }
	$(PY) -m devtools.graphs
	$(PY) -m devtools.openapi_dump docs/openapi.json

# The browser tests save their screenshots to .data/screenshots unless SCREENSHOTS names a folder.
screenshots: java venv node_modules web browser
	SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest -q tests/browser

# Generated from chalicelib/domain/graphs.py by devtools/asl/generate.py; a unit test fails when stale.
asl: venv
	$(PY) -m devtools.asl

# Packaging. chalice only needs a region to name service principals (the template itself is
# region-agnostic); it caches the dependency wheels under .chalice/deployments, so only the
# first package on a clean clone downloads them from PyPI.
STAGE ?= dev
STAGES := dev prod
REGION = $${AWS_DEFAULT_REGION:-us-east-1}
# The package ships compiled bytecode (cold starts); cfn-lint, which reads only the templates, skips it.
BYTECODE ?= 1
STACK = booking-engine-$(STAGE)

package: venv web
	@case "$(STAGE)" in dev|prod) ;; *) echo "STAGE must be dev or prod, not '$(STAGE)'"; exit 1;; esac
	rm -rf dist/$(STAGE)
	$(PY) -m devtools.infra template --stage $(STAGE) --out dist/merge-template.$(STAGE).json
	AWS_DEFAULT_REGION=$(REGION) $(VENV)/bin/chalice package --stage $(STAGE) \
		--merge-template dist/merge-template.$(STAGE).json dist/$(STAGE)
	$(if $(filter 1,$(BYTECODE)),$(PY) -m devtools.infra bytecode dist/$(STAGE))
	$(PY) -m devtools.infra report dist/$(STAGE)

cfn-lint: venv web
	@for stage in $(STAGES); do $(MAKE) --no-print-directory package STAGE=$$stage BYTECODE=0 >/dev/null || exit 1; done
	$(VENV)/bin/cfn-lint $(foreach stage,$(STAGES),dist/$(stage)/sam.json)
	@echo "cfn-lint: no errors in $(foreach stage,$(STAGES),dist/$(stage)/sam.json)"

# The real deploy (not run by the tests; this machine cannot reach AWS). The template holds the
# state machines inline, so it is uploaded through S3 (templates over 51,200 bytes must be).
deploy: package
	@test -n "$$DEPLOY_BUCKET" || { echo "DEPLOY_BUCKET (an S3 bucket for the package) is not set"; exit 1; }
	@test -n "$$BOOKING_ROOT_KEY" || { echo "BOOKING_ROOT_KEY (the platform root key) is not set"; exit 1; }
	aws cloudformation package --template-file dist/$(STAGE)/sam.json --s3-bucket "$$DEPLOY_BUCKET" \
		--s3-prefix $(STACK) --output-template-file dist/$(STAGE)/packaged.json
	aws cloudformation deploy --template-file dist/$(STAGE)/packaged.json --stack-name $(STACK) \
		--s3-bucket "$$DEPLOY_BUCKET" --s3-prefix $(STACK) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
		--no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) RootKey="$$BOOKING_ROOT_KEY" $${ALARM_EMAIL:+AlarmEmail=$$ALARM_EMAIL}
	aws cloudformation describe-stacks --stack-name $(STACK) --query 'Stacks[0].Outputs' --output table

clean:
	rm -rf .data dist .pytest_cache .mypy_cache .ruff_cache .hypothesis $(WEB_OUT)
	find . \( -path ./.venv -o -path ./node_modules -o -path ./web/node_modules -o -path ./.git \) -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +
