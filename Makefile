# Yibao Watch: every target installs what it needs into .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all install test test-demo lint fmt demo replicas serve bench clean system-deps

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Debian's chromium (and a CJK font), for the tests that look at pages as a person would (installed, never downloaded).
system-deps:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wenquanyi; } || { \
	  echo "installing Debian's chromium and a CJK font for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei) \
	  >/dev/null 2>&1 || echo "could not install chromium: the browser tests will say so and be skipped"; }

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not demo"

# the make-demo loop end to end (about a minute; outside make test's 10-minute budget)
test-demo: $(STAMP)
	$(BIN)/python -m pytest -q -m demo

demo: $(STAMP)
	$(BIN)/yibao demo

replicas: $(STAMP)
	$(BIN)/python -m replicas serve

serve: $(STAMP)
	$(BIN)/yibao serve

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
