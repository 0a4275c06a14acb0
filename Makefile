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

.PHONY: demo test test-fast install sandbox-deps browser-deps bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -c constraints.txt -e ".[dev]" 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(PY) -c "import torch, nbgrader, jupyterlab, sklearn, ipywidgets, course, autograder"
	touch $@

demo: $(STAMP) sandbox-deps
	$(VENV)/bin/course demo

# Debian packages, installed when missing and root (otherwise: a warning, and the browser tests
# skip / grading runs without its sandbox): bubblewrap sandboxes student code, chromium runs
# the browser tests.
sandbox-deps:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } \
		|| echo "warning: no bubblewrap: course grade will run student code without a sandbox"

browser-deps:
	@bash tools/install_browser.sh

test: $(STAMP) sandbox-deps browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# the unit tests only: no notebooks executed, no browser
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
