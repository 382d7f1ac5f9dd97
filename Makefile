# Two commands do everything on a fresh machine with Python 3.11+:
#   make demo   set up .venv and run the built-in airport-expressway scenario headless
#   make test   set up .venv and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-latency setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,sumo]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/v2xsim run airport-expressway --out runs/airport-expressway

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=15

# ruff and mypy as CI runs them (their versions are pinned in the `lint` extra)
$(VENV)/.lint-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,sumo,lint]'
	touch $@

lint: $(VENV)/.lint-installed
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pytest bench -q --benchmark-only --benchmark-json=bench/results.json -p no:randomly

clean:
	rm -rf $(VENV) runs .pytest_cache .benchmarks

bench-latency: $(STAMP)
	$(BIN)/v2xsim bench latency airport-expressway --config expressway-load --seeds 2 --until 6 --out runs/bench-latency
