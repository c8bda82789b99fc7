# homerag: `make demo` runs it, `make test` tests it (both create .venv and install what they need).
# Every pip install here resolves the locked set in constraints.txt (`make lock` regenerates it).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export SCARF_NO_ANALYTICS := true
export DO_NOT_TRACK := true
export UNSTRUCTURED_DISABLE_NOTICE := 1

.PHONY: demo test test-fast install install-test system-deps serve lint lock wheel-smoke bench clean

# pip, setuptools and wheel are locked too.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

# Runtime only (no torch): the demo uses the lexical embedder.
$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py constraints.txt
	$(BIN)/pip install -q -e .
	touch $@

# Everything the tests and `make lint` need: BGE-M3 code path (torch CPU), test and lint tools.
$(VENV)/.installed-test: $(BIN)/python pyproject.toml setup.py constraints.txt
	$(BIN)/pip install -q -e ".[bge,test,lint]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

system-deps:
	bash scripts/system-deps.sh

demo: install
	$(BIN)/homerag demo

serve: install
	$(BIN)/homerag serve

test: install-test system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The quick tier while working: no servers or subprocesses, no browser, no GPU (CI runs `test`).
test-fast: install-test
	$(BIN)/python -m pytest -m "not slow and not browser and not gpu" $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/run_all.py

# ruff, mypy and the import contracts (.importlinter) when the file exists.
lint: install-test
	$(BIN)/python -m ruff check app ingest tests bench scripts migrations setup.py
	$(BIN)/python -m mypy app ingest
	if [ -f .importlinter ]; then $(BIN)/lint-imports; fi

# Regenerate constraints.txt and constraints-docker.txt (UPGRADE=1 or UPGRADE_PACKAGES="a b").
lock:
	PYTHON=$(PYTHON) bash scripts/lock.sh

# Build the wheel, install it in a clean virtualenv, migrate, ingest and ask from it.
wheel-smoke:
	PYTHON=$(PYTHON) bash scripts/wheel_smoke.sh

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache build dist
