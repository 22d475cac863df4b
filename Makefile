# The template repo's tasks and the squadkit library's. Every target bootstraps its own
# tooling into .venv (squadkit with every extra, pinned copier and uv, from uv.lock), so a
# machine needs only python3, git and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := build/demo
DEMO_ANSWERS ?=# e.g. --data include_service=false; a refused answer is one line, exit 1
# Copier with Python's traceback limit at 0: a refused --data answer prints our message alone
# (Copier 9 lets it escape as a traceback; docs/questions.md).
COPIER = $(BIN)/python -c 'import sys; sys.tracebacklimit = 0; from copier.__main__ import CopierApp; CopierApp.run()'

.PHONY: bootstrap demo test lint types clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9

$(VENV)/.synced: $(BIN)/uv pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --all-extras --quiet
	touch $@

bootstrap: $(VENV)/.synced ## Install the template's own tooling into .venv

demo: bootstrap ## Render a squad repo with all defaults into build/demo and run its full check
	rm -rf $(DEMO)
	PATH="$(abspath $(BIN)):$$PATH" $(COPIER) copy --trust --defaults --vcs-ref=HEAD \
		--data project_name="Demo Squad" --data squadkit_path=$(CURDIR) $(DEMO_ANSWERS) . $(DEMO)
	PATH="$(abspath $(BIN)):$$PATH" $(MAKE) -C $(DEMO) check

test: lint types ## Lint, type-check, then the library's and the template's tests (both run; fails if either failed)
	@status=0; \
	$(BIN)/pytest -n auto tests/library || status=1; \
	$(BIN)/pytest -n auto tests/template || status=1; \
	exit $$status

lint: bootstrap ## ruff and ruff format on the library, its tests, hooks and benchmarks
	$(BIN)/ruff check src tests hooks benchmarks
	$(BIN)/ruff format --check src tests hooks benchmarks

types: bootstrap ## mypy --strict on the library and its tests
	$(BIN)/mypy

.PHONY: bench
BENCH_ARGS ?=# e.g. --quick, --only eval,service, --no-promptfoo
bench: bootstrap ## Render a squad repo and measure it against its references (benchmarks/run.py)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build
