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
export MPLCONFIGDIR ?= $(CURDIR)/.cache/matplotlib
export TOKENIZERS_PARALLELISM := false

.PHONY: install browser postgres demo test test-fast lint format server clean lock audit

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

# The SQL connector tests start a throwaway PostgreSQL server (tests/postgres.py), so its server
# binaries are installed when missing (Debian/Ubuntu, as root or through sudo).
# VOCFLOW_SKIP_POSTGRES=1 skips both this step and those tests.
postgres:
	@if [ "$$VOCFLOW_SKIP_POSTGRES" = 1 ] || command -v initdb >/dev/null 2>&1 \
		|| ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; else \
		echo "installing PostgreSQL (server binaries for the SQL connector tests)"; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq postgresql; fi

demo: install  ## Ingest the bundled sample data, analyse it and write reports/latest/
	$(BIN)/vocflow run

# The report test opens the HTML in headless Chromium (system package, no browser download)
# and needs a CJK font for Korean. Installed only when missing; sudo only when not root.
browser:  ## Chromium and Korean fonts for tests/browser (Debian/Ubuntu)
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium fonts-noto-cjk; \
	fi

test: install browser postgres  ## The whole test suite (what CI runs)
	$(BIN)/python -m pytest

test-fast: install postgres
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
