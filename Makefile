# Every target creates what it needs (the virtual environment and its packages) on first use.
# A bare `make` lists the targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
ENV ?= dev
export PYTHONPATH := $(CURDIR)

.PHONY: help run test test-fast token migrate migrate-sql bench soak lint lock expand-check
.DEFAULT_GOAL := help

help: ## list the targets (this)
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# requirements-dev.txt is the lock (every package pinned, with hashes), compiled by `make lock`.
$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	bash scripts/ensure_locale.sh
	touch $(STAMP)

lock: $(STAMP) ## recompile requirements-dev.txt (pinned, hashed) from requirements-dev.in and requirements.txt
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements-dev.txt requirements-dev.in

# exec: make's child is the server itself, so a SIGTERM to make reaches it (sh would die alone).
run: $(STAMP) ## serve the API on 127.0.0.1:$(PORT); embedded PostgreSQL when DATABASE_URL is unset
	PORT=$(PORT) exec $(PY) scripts/serve.py

test: $(STAMP) ## the whole suite, in parallel, on real PostgreSQL: TEST_DATABASE_URL, else an embedded one
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## the suite without the slow fault and soak tests, for the edit loop
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

token: $(STAMP) ## a development token: make token USER=alice
	@$(PY) scripts/dev_token.py "$(USER)"

migrate: $(STAMP) ## alembic upgrade head against DIRECT_DATABASE_URL (else DATABASE_URL)
	$(VENV)/bin/alembic upgrade head

migrate-sql: $(STAMP) ## print the migration SQL for review
	$(VENV)/bin/alembic upgrade head --sql

expand-check: $(STAMP) ## the previous release's API tests on the new schema; migrations must only add
	$(PY) scripts/expand_only.py

lint: $(STAMP) ## ruff lint and format check, mypy (strict) on functions/ and shared/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

-include mk/*.mk
