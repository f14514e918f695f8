# Every target creates what it needs (the virtual environment and its packages) on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
ENV ?= dev
export PYTHONPATH := $(CURDIR)

.PHONY: run test token migrate migrate-sql bench soak lint expand-check

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# exec: make's child is the server itself, so a SIGTERM to make reaches it (sh would die alone).
run: $(STAMP) ## serve the API on 127.0.0.1:$(PORT); embedded PostgreSQL when DATABASE_URL is unset
	PORT=$(PORT) exec $(PY) scripts/serve.py

test: $(STAMP) ## the whole suite on real PostgreSQL: TEST_DATABASE_URL, else an embedded one
	$(PY) -m pytest $(PYTEST_ARGS)

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
