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

.PHONY: run test install lint services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	DJANGO_DEBUG=1 ./scripts/run-portal.sh $(HOST) $(PORT)

services:
	./scripts/ensure-test-deps.sh

test: install services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var test-artifacts
