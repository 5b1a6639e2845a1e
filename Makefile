# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint typecheck system-deps node-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the skill on http://$(HOST):$(PORT) with the embedded defaults (SQLite, local audio).
run: $(STAMP)
	$(PY) -m skill serve --host $(HOST) --port $(PORT)

## Install everything, run the whole test suite, then the linters (ruff, mypy --strict).
test: $(STAMP) system-deps node-deps
	$(PY) -m pytest -q
	$(VENV)/bin/ruff check skill tests
	$(VENV)/bin/mypy

lint: $(STAMP)
	$(VENV)/bin/ruff check skill tests
	$(VENV)/bin/mypy

## ffprobe/ffmpeg (audio checks) and espeak-ng (offline speech), from Debian, if missing.
system-deps:
	@command -v ffprobe >/dev/null && command -v espeak-ng >/dev/null || bash scripts/system-deps.sh

## Node dev tools from npm (dynalite, serverless, virtual-alexa), re-installed when the lock changes.
node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
