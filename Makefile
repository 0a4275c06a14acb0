# Set-up and the two commands of the README:
#   make demo   releases the assignments and grades a generated sample class
#   make test   runs the whole test suite (browser tests included)
# Both create .venv on first use and install the pinned versions from constraints.txt.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PIP_FLAGS ?= -q --disable-pip-version-check

.PHONY: demo test test-fast install bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -c constraints.txt -e ".[dev]" 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(PY) -c "import torch, nbgrader, jupyterlab, sklearn, ipywidgets, course, autograder"
	touch $@

demo: $(STAMP)
	$(VENV)/bin/course demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# the unit tests only: no notebooks executed, no browser
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
