# hwflow: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash

VENV := .venv
OUT ?= runs/default
# Optional: make run CONFIG=models/<name>.yaml (empty = the embedded default digits_mlp).
CONFIG ?=
PYTEST_ARGS ?=

.PHONY: setup run test bench

setup:
	@. scripts/env.sh

run:
	@. scripts/env.sh && $(VENV)/bin/hwflow run $(CONFIG) --out $(OUT)

test:
	@. scripts/env.sh && $(VENV)/bin/python -m pytest -q -n auto --dist loadfile tests $(PYTEST_ARGS)

bench:
	@. scripts/env.sh && $(VENV)/bin/python benchmarks/run_all.py
