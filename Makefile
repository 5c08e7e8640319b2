# opsportal: `make run` serves the demo portal, `make test` runs the whole suite.
# Both set everything up themselves and are safe to run again.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The installed-dependencies stamp follows pyproject.toml: edit it and the next
# make re-installs.
STAMP  := $(VENV)/.installed

# The static checks import the settings but need no services: debug settings on an
# in-memory SQLite database (nothing to connect to, no file left behind) and no Redis.
CHECK_ENV := DJANGO_DEBUG=1 DATABASE_URL=sqlite://:memory: REDIS_URL=

.PHONY: run serve test install check lint services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	./scripts/ensure-report-deps.sh
	DJANGO_DEBUG=1 ./scripts/run-portal.sh $(HOST) $(PORT)

# The production topology (README "Running in production"): gunicorn gthread on
# HOST:PORT and the uvicorn gate-stream server on HOST:STREAM_PORT, against
# DATABASE_URL (PostgreSQL) and REDIS_URL. Plain HTTP locally, so the HTTPS redirect
# and secure cookies are off unless set.
STREAM_PORT ?= $(shell echo $$(( $(PORT) + 1 )))
serve: install
	@test -n "$$DATABASE_URL" || { echo "make serve: set DATABASE_URL=postgres://..."; exit 2; }
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve: set DJANGO_SECRET_KEY"; exit 2; }
	@test -n "$$OPSPORTAL_AUDIT_SIGNING_KEY" || { echo "make serve: set OPSPORTAL_AUDIT_SIGNING_KEY"; exit 2; }
	DJANGO_SECURE_SSL_REDIRECT=$${DJANGO_SECURE_SSL_REDIRECT:-0} \
	DJANGO_SECURE_COOKIES=$${DJANGO_SECURE_COOKIES:-0} \
	./scripts/serve.sh $(HOST) $(PORT) $(STREAM_PORT)

services:
	./scripts/ensure-test-deps.sh

# check first: a lint or typing failure ends the run before the slow suite starts.
test: check services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every static check CI runs; contracts and the mypy configuration are in pyproject.toml.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(CHECK_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports
	$(CHECK_ENV) $(BIN)/mypy

lint: check

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var test-artifacts
