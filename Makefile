# Two commands do everything (see README.md):
#   make book   - set up .venv, re-execute and validate every chapter (nbval), build the site
#   make test   - set up .venv, run the library's unit tests and nbval over every chapter

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Put the venv first on PATH so the notebooks' "python3" kernel is the venv's interpreter.
export PATH := $(BIN):$(PATH)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NBVAL := pytest --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg -p no:cacheprovider chapters
STAMP := $(VENV)/.installed

.PHONY: book test nbval unit lint site execute bench browser-check clean venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt lib/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

book: $(STAMP) nbval site

test: $(STAMP) lint unit nbval

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests

nbval: $(STAMP)
	$(BIN)/python -m $(NBVAL)

lint: $(STAMP)
	$(BIN)/ruff check lib tests bench

# JavaScript served with the site (package.json): the widget manager, so nothing comes from a CDN.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch node_modules/.installed

site: $(STAMP) node_modules/.installed
	rm -rf _build
	$(BIN)/jupyter-book build . --all -W -n --keep-going

# Re-execute one chapter in place after editing it: make execute NB=chapters/01_noise_injection.ipynb
execute: $(STAMP)
	$(BIN)/python tools/execute.py $(NB)

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf _build $(VENV)

# Load every page of the built site in headless Chromium (Debian package `chromium`): fails on raw
# TeX, broken images or figures, dead internal links, requests to other hosts; saves screenshots.
browser-check: $(STAMP)
	$(BIN)/python tools/browser_check.py _build/html --screenshots _build/screenshots
