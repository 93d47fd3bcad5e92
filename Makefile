# groundswell: `make test` and `make demo` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -q

demo: $(STAMP)
	rm -f demo.duckdb
	$(BIN)/python -m groundswell.simulate demo-data
	$(BIN)/groundswell ingest demo-data --db demo.duckdb
	$(BIN)/groundswell stats --db demo.duckdb

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) demo-data demo.duckdb .pytest_cache
