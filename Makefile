# Navaia: `make run` and `make test` work on a fresh machine with Python 3.11+, Node.js and npm.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)

.PHONY: run test install install-dev node chromium worker migrate bench faults clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed node
install-dev: $(VENV)/.installed-dev node chromium

node:
	@scripts/ensure-node.sh

chromium:
	@scripts/ensure-chromium.sh

migrate: install
	$(VENV)/bin/python -m navaia_app.cli migrate

run: install
	@scripts/run.sh

worker: install
	$(VENV)/bin/python -m navaia_app.cli worker

test: install-dev
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: install-dev
	scripts/ensure-wrk.sh
	for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

# Fault scripts: each starts its own PostgreSQL, Redis, web app and workers, breaks one of them and
# prints what it saw; all of them run, and the target fails if any did.
faults: install-dev
	@failed=""; for f in bench/faults/[a-z]*.py; do echo "== $$f"; $(VENV)/bin/python $$f || failed="$$failed $$f"; done; \
	if [ -n "$$failed" ]; then echo "fault scripts that failed:$$failed"; exit 1; fi

clean:
	rm -rf .web .states __pycache__ .pytest_cache
