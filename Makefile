# Yibao Watch: every target installs what it needs into .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest -q
# make test leaves out the demo loop (make test-demo) and the install-from-the-index check (make test-install)
MARKS := not demo and not install
# the two lanes of make test, by folder (tests/lanes.py): every test folder but tests/e2e is the unit lane (in
# process: a subprocess or a bound socket fails the test), run first; tests/e2e/<area>/ is the end-to-end lane
# (replica portals, crawls in subprocesses, servers); each with its pytest-xdist workers (0: none).
# Measured on the 2-core machine (1,624 unit and 516 end-to-end tests): the unit lane took 87 s serial and, with
# two workers beside mypy, 58 s for both; the end-to-end lane, whose tests wait on crawl subprocesses and
# servers as much as they compute, took 7 min 04 s with two workers spreading single tests (--dist load) and
# 4 min 34 s with three.
UNIT_WORKERS ?= 2
E2E_WORKERS ?= 3
E2E_DIST ?= load

.PHONY: all install test test-unit test-e2e typecheck test-demo test-install test-lowest lint fmt demo replicas \
	serve bench clean system-deps

all: test

# uv (from PyPI, pinned) installs the project: resolving and downloading in parallel, a fresh machine's install
# takes about 30 s instead of pip's 90 s. pip stays in the venv for users and for the install checks.
# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set, nothing would ever write the dependencies' .pyc, and
# each crawl process (hundreds in the end-to-end lane, one per portal run in production) spent 0.6 CPU-s more
# compiling Scrapy, Twisted and the rest again (1.35 against 0.80 CPU-s for a crawl's imports, measured).
UV_VERSION := 0.13.9

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# mypy over the source, as [tool.mypy] in pyproject.toml says (files, strictness per package)
typecheck: $(STAMP)
	$(BIN)/mypy

# Debian's chromium and a CJK font (the tests that look at pages as a person would), systemd-analyze (the
# tests of deploy/systemd's unit files) and redis-server (tests/e2e/cluster starts its own): installed from
# Debian's packages, never downloaded otherwise.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi wenquanyi || missing="$$missing fonts-wqy-zenhei"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian's$$missing (browser tests, CJK font, systemd-analyze for the unit files, Redis for the cluster tests)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) \
	  >/dev/null 2>&1 || echo "could not install$$missing: the tests that need them will say so and be skipped"; \
	fi

# ruff; mypy beside the unit lane; then the end-to-end lane
test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory -j2 --output-sync=target typecheck test-unit
	$(MAKE) --no-print-directory test-e2e

test-unit: $(STAMP)
	$(PYTEST) -m "$(MARKS)" -n $(UNIT_WORKERS) tests --ignore=tests/e2e

# the end-to-end lane: replica portals, crawls in subprocesses, servers (tests/e2e/<area>/)
test-e2e: $(STAMP)
	$(PYTEST) -m "$(MARKS)" -n $(E2E_WORKERS) --dist $(E2E_DIST) tests/e2e

# the make-demo loop end to end (about a minute; outside make test's time budget)
test-demo: $(STAMP)
	$(PYTEST) -m demo

# `pip install` of the built wheel into a fresh venv (dependencies from the package index), then yibao --help,
# portals, demo and `scrapy list` run from a folder outside the checkout (a few minutes; needs the index)
test-install: $(STAMP)
	$(PYTEST) -m install -s tests/deploy

# every dependency at the lowest version pyproject.toml allows, in a venv of its own: mypy, then the in-process
# suites that use them (needs the package index; keeps the lower bounds honest)
LOWEST_VENV := $(VENV)/lowest
LOWEST_TESTS ?= tests/storage tests/normalize tests/diffing tests/query tests/feeds tests/alerts tests/config tests/cli
test-lowest: $(STAMP)
	rm -rf $(LOWEST_VENV)
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/pip install --quiet --upgrade pip
	$(LOWEST_VENV)/bin/pip install --quiet $$($(BIN)/python -m tests.deploy.lowest)
	$(LOWEST_VENV)/bin/pip install --quiet --no-deps -e .
	$(LOWEST_VENV)/bin/pip list 2>/dev/null | grep -iE "^($$($(BIN)/python -m tests.deploy.lowest --names)) "
	$(LOWEST_VENV)/bin/mypy --cache-dir $(LOWEST_VENV)/.mypy_cache
	$(LOWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "$(MARKS)" $(LOWEST_TESTS)

demo: $(STAMP)
	$(BIN)/yibao demo

replicas: $(STAMP)
	$(BIN)/python -m replicas serve

serve: $(STAMP)
	$(BIN)/yibao serve

bench: $(STAMP)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev,bench]'  # urlwatch, for crawl_compare (benchmark-only, never a runtime dependency)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
