# Set-up is part of every target: a fresh machine with only Python 3.11 needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -m "not slow"
# make run and the tests share the repository's cache/ folder (the programs' own default is the per-user
# cache folder, ~/.cache/sklearn-eeg); an SKLEARN_EEG_CACHE set outside make wins.
export SKLEARN_EEG_CACHE ?= $(CURDIR)/cache

.PHONY: install run test test-slow test-all bench clean gpu-wheels

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# CPU torch from the local wheel unless a torch is already installed (never force another version)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) pipelines/loso.py

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

test-all: $(STAMP)
	$(PY) -m pytest

# the wheel .ci/gpu_check installs on a lent GPU machine (no network there): this skorch, any platform
gpu-wheels: $(STAMP)
	$(PY) -m pip download -q --no-deps --only-binary=:all: -d .gpu_wheels "skorch==$$($(PY) -c 'import skorch; print(skorch.__version__)')"

clean:
	rm -rf $(VENV) cache/joblib cache/synthetic *.egg-info
