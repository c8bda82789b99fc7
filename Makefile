# homerag: `make demo` runs it, `make test` tests it (both create .venv and install what they need).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export SCARF_NO_ANALYTICS := true
export DO_NOT_TRACK := true
export UNSTRUCTURED_DISABLE_NOTICE := 1

.PHONY: demo test install install-test system-deps serve lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

# Runtime only (no torch): the demo uses the lexical embedder.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -e .
	touch $@

# Everything the tests need: BGE-M3 code path (torch CPU), test tools.
$(VENV)/.installed-test: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -e ".[bge,test]"
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

bench: install-test
	$(BIN)/python bench/run_all.py

lint: install-test
	$(BIN)/python -m ruff check app ingest tests bench scripts migrations
	$(BIN)/python -m mypy app ingest

clean:
	rm -rf $(VENV) .pytest_cache
