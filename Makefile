# Huiying: `make run` starts everything on SQLite; `make test` runs every check and test.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run install test test-deps check lint format bench demo clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Huiying needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/huiying db upgrade
	$(BIN)/huiying bootstrap --demo-if-empty --host $(HOST) --port $(PORT)
	$(BIN)/huiying serve --host $(HOST) --port $(PORT)

demo: install
	$(BIN)/huiying db upgrade
	$(BIN)/huiying demo

test-deps: $(VENV)/.test-installed
	@bash scripts/ensure-chromium.sh

check: test-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/pytest -q -p no:cacheprovider tests/test_layers.py

test: check
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

format: test-deps
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: test-deps
	@echo "see bench/README.md; e.g. $(BIN)/python bench/intake.py"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
