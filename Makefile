# groundswell: `make test` and `make demo` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo bench clean chromium java fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP) chromium java
	$(BIN)/pytest -q --durations=20

demo: $(STAMP)
	rm -f demo.duckdb
	$(BIN)/groundswell simulate demo-data --format v1
	$(BIN)/groundswell ingest 'demo-data/synthetic-*' --db demo.duckdb
	$(BIN)/groundswell stats --db demo.duckdb --movement metoo
	$(BIN)/groundswell report --db demo.duckdb --movement metoo --out report.html

# Headless Chromium for the report's browser test (Debian's package). CI runs as root and
# installs it, so the test never skips there; elsewhere without root the test skips with a reason.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: /usr/bin/chromium is missing (as root: apt-get install chromium); the browser test will skip"; \
	  fi; \
	fi

# Java 17 for the Spark parity tests (Debian's OpenJDK), installed only when `java -version`
# fails. CI runs as root and installs it, so the Spark tests never skip there.
java:
	@if ! java -version >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
	      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null); \
	  else \
	    echo "note: Java is missing (as root: apt-get install openjdk-17-jre-headless); the Spark tests will skip"; \
	  fi; \
	fi

# Every benchmark, then docs/performance.md rewritten from their figures (about an hour and
# a half on 2 cores; BENCH_FLAGS=--short for a 256 MB ingest and Spark up to 1e6 posts,
# --quick for a few minutes' check of the chain).
BENCH_FLAGS ?=
bench: $(STAMP) java
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python bench/all.py $(BENCH_FLAGS)

clean:
	rm -rf $(VENV) demo-data demo.duckdb .pytest_cache

# Longer fuzzing than CI's: the Hypothesis suite with many more examples, then the atheris
# targets (fuzz/) where atheris installs. FUZZ_EXAMPLES and FUZZ_SECONDS (per target) tune it.
FUZZ_EXAMPLES ?= 5000
FUZZ_SECONDS ?= 120
fuzz: $(STAMP)
	GROUNDSWELL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/test_fuzz.py
	@if $(BIN)/pip install --quiet atheris; then \
	  $(BIN)/python fuzz/run.py --seconds $(FUZZ_SECONDS); \
	else \
	  echo "note: atheris does not install here; the Hypothesis run above was the fuzzing"; \
	fi
