# The quick start: `make demo` installs and runs the main job, `make test` runs the test suite.
# Both create ./.venv and install the pinned versions from constraints.txt on first use.
PYTHON ?= python3.11
VENV ?= .venv
# Port of the demo's API (`make demo PORT=8001` when 8000 is taken).
PORT ?= 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench reliability clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The main job on the embedded defaults.
demo: $(STAMP)
	$(BIN)/roundabout demo --port $(PORT)

## The whole suite, slow tests included (PostgreSQL on 127.0.0.1:5432 must be up).
test: $(STAMP)
	$(BIN)/python -m pytest

## The suite without the slow tests and those needing PostgreSQL (marked `postgres`).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not postgres"

## The long reliability runs of docs/reliability.md (about 30 minutes; PostgreSQL must be up).
reliability: $(STAMP)
	cd bench && ../$(BIN)/python fuzz_api.py --examples 1000
	cd bench && ../$(BIN)/python crash.py --outcomes 5000 --kills 5
	cd bench && ../$(BIN)/python soak.py --minutes 10

lint: $(STAMP)
	$(BIN)/ruff check roundabout tests bench
	$(BIN)/ruff format --check roundabout tests bench

clean:
	rm -rf $(VENV) .roundabout .pytest_cache
