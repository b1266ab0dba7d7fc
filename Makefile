# Two commands for a newcomer (see README):  make plan   and   make test
# Everything runs from the project's own virtualenv, built here from pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= staging

.DEFAULT_GOAL := help
.PHONY: help plan test lint format snapshots bench lock

help:
	@echo "make plan [STACK=staging|prod]  offline plan of a stack: no cloud account, no Pulumi CLI"
	@echo "make test                       lint + the whole test suite (what CI runs)"
	@echo "make format                     ruff format + autofix"
	@echo "make snapshots                  regenerate tests/snapshots/*.yaml after a reviewed change"
	@echo "make bench                      time the offline plan against the bare imports"
	@echo "make lock                       regenerate the hash locks (requirements.txt, bootstrap/) from PyPI"

# What the plan needs: the program's dependencies (Pulumi, the Google provider, pydantic) and
# the tool. The first time takes a few minutes; pip's own progress shows what it is doing.
$(BIN)/.installed: pyproject.toml requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python >= 3.11 is needed (found $$($(PYTHON) --version)); try make PYTHON=python3.11" >&2; exit 1; }
	@echo "==> Creating $(VENV) and installing the program's dependencies (pulumi, pulumi-gcp, pydantic): a few minutes the first time"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -e .
	@touch $@

# What `make test` adds: pytest, ruff and the workflow linters.
$(BIN)/.tools: $(BIN)/.installed
	@echo "==> Installing the test and lint tools (pytest, ruff, mypy, actionlint, shellcheck, zizmor)"
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -e '.[lint,test]'
	@touch $@

plan: $(BIN)/.installed
	$(BIN)/vidgo-infra plan $(STACK)

lint: $(BIN)/.tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pytest exits 5 when it collected no test: say so, and fail, since nothing was checked.
test: lint
	@$(BIN)/python -m pytest || { rc=$$?; \
	  [ $$rc -ne 5 ] || echo "pytest collected no tests: nothing was checked" >&2; exit $$rc; }

format: $(BIN)/.tools
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

snapshots: $(BIN)/.installed
	$(BIN)/vidgo-infra snapshot --all

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/plan_startup.py

# The hash locks every credentialed CI job installs with `pip install --require-hashes`:
# requirements.txt (also what Pulumi's host installs) from pyproject.toml's dependencies, and
# bootstrap/requirements.txt from bootstrap/requirements.in. Existing pins are kept; Dependabot
# proposes upgrades (.github/dependabot.yml).
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(abspath $(BIN))/pip-compile --quiet \
  --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
  --index-url https://pypi.org/simple

lock: $(BIN)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check 'pip-tools==7.6.2'
	$(PIP_COMPILE) --output-file requirements.txt pyproject.toml
	cd bootstrap && $(PIP_COMPILE) --output-file requirements.txt requirements.in
