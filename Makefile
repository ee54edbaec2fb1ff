# vocflow: `make demo` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# Everything stays offline and inside the checkout (shared/notes/prefect.md).
export PREFECT_HOME ?= $(CURDIR)/.prefect
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export NUMBA_CACHE_DIR ?= $(CURDIR)/.cache/numba
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast lint format server clean lock audit

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch from local disk first: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# requirements.lock pins every transitive version to what CI tested (`make lock` updates it).
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	$(BIN)/python -m pip check
	touch $@

install: $(VENV)/.installed

demo: install  ## Ingest the bundled sample data, analyse it and write reports/latest/
	$(BIN)/vocflow run

test: install  ## The whole test suite (what CI runs)
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: install  ## Re-pin requirements.lock to the installed versions (after changing dependencies)
	{ grep '^#' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^#'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

audit:  ## Known-vulnerability audit of requirements.lock (pip-audit; says NOT AUDITED when offline)
	$(PYTHON) scripts/audit_deps.py

server: install  ## Prefect server with the UI on http://127.0.0.1:4200 (then `vocflow serve`)
	$(BIN)/prefect server start --host 127.0.0.1

clean:
	rm -rf .vocflow reports .prefect .cache
