# Set-up and everyday commands. Each target creates .venv and installs fastem into it
# when needed, so `make run` and `make test` work on a fresh machine with Python 3.10 or
# newer. Another Python, in a venv of its own: `make test PYTHON=python3.13 VENV=.venv-3.13`.
#   make run        the default Monte Carlo study
#   make check      ruff (lint and format) and mypy; `make lint` is ruff alone
#   make test       make check, then the test suite in three passes (below), slow tests left out
#   make test-all   the same with the tests marked slow, as CI runs it (`make test SLOW=1`)
#   make docs       the documentation site (docs/ into docs/_build/html), tutorials executed
#   make bench      the benchmarks (bench/), not part of the tests' pass or fail

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make test` builds the site too, after the tests; `make test DOCS=` leaves it out.
DOCS ?= docs

# The oldest and the newest Python the package claims (pyproject.toml's classifiers), where
# pyenv keeps them or on the PATH; `make test-pythons` runs the suite under both.
OLDEST_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) python3.10)
NEWEST_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python3.13) python3.13)

.PHONY: run check lint typecheck test test-all test-pythons docs bench bench-save bench-compare clean

# pip prints what set-up is doing (without the progress bars, which a log cannot show).
# Then `fastem compile` puts the kernels of the common paths into numba's cache beside the
# sources, so that a first `fastem fit` loads them instead of compiling (the generic pass
# of `make test` keeps a cache of its own, which this leaves alone).
$(STAMP): pyproject.toml
	@echo "fastem: setting up $(VENV) with $$($(PYTHON) --version 2>&1) (once; a minute or two)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar off --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	$(BIN)/fastem compile
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fastem study

# Coverage of the plain-Python pass, where Python has sys.monitoring (3.12 and newer, so the
# newest of `make test-pythons`): there it records each line once and then lets it run
# free. Older Pythons' tracer is called on every line the kernels run as Python, which
# multiplies that pass's time several times over, so they run the pass without coverage
# (`make test COVERAGE=--cov=fastem` measures it there all the same). Its floor is for the
# whole pass, so it is measured with the slow tests (SLOW=1: make test-all and CI).
COVERAGE = $(if $(SLOW),$$($(BIN)/python -c 'import sys; sys.version_info >= (3, 12) and \
	print("--cov=fastem --cov-report=term:skip-covered")'))

# `make check` first: the lint, the format and the types fail quickly, before the long
# tests. Then the whole suite. The second run executes the kernels as plain Python
# (NUMBA_DISABLE_JIT=1) on the tests marked plain_python, which reach every kernel line, so
# that their logic is checked outside numba too; under coverage (above), it prints the share
# of fastem's lines it reached and fails below the floor in pyproject.toml
# ([tool.coverage.report] fail_under). The third compiles the kernels for baseline x86-64
# (no AVX, no FMA instructions), in that target's numba cache (below), and runs those and
# the tests marked exact: a test that holds only by one CPU's rounding fails there on every
# machine.
#
# Every pass leaves out the tests marked slow (pyproject.toml's markers): checks that take
# long for what they add to a change's first run, such as compiling every kernel from
# nothing or a whole shipped study. `make test SLOW=1`, or `make test-all`, runs them too,
# and CI does (`make test-pythons`, below).
SLOW ?=
UNLESS_SLOW = $(if $(SLOW),, and not slow)
# The plain-Python pass leaves out the tests marked slow_as_python too: fast compiled, they
# take many seconds each as Python (the compiled passes run them all the same).
UNLESS_SLOW_AS_PYTHON = $(if $(SLOW),, and not slow and not slow_as_python)

# The numba caches of the kernels compiled for CPUs other than this one, a directory per
# target: test_portability.py fills them (FASTEM_TARGET_CACHES), and the third pass reads
# the `generic` one, compiled for the same target, instead of compiling it all again.
TARGET_CACHES = $(abspath $(VENV))/numba-cache

# Each pass runs its tests in a worker process per core (pytest-xdist; `make test JOBS=0`
# runs them in one process), each test file in one worker, so that its module's fixtures
# are computed once. Workers that compile a kernel at once share numba's cache safely:
# fastem locks a kernel's entries while it writes them (fastem/engine/jit.py).
JOBS ?= auto
PARALLEL = -n $(JOBS) --dist loadfile

test: check
	FASTEM_TARGET_CACHES=$(TARGET_CACHES) $(BIN)/python -m pytest $(PARALLEL) \
		$(if $(SLOW),,-m "not slow")
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q -p no:cacheprovider $(PARALLEL) \
		-m "plain_python$(UNLESS_SLOW_AS_PYTHON)" $(COVERAGE)
	NUMBA_CPU_NAME=generic NUMBA_CACHE_DIR=$(TARGET_CACHES)/generic \
		$(BIN)/python -m pytest -q -p no:cacheprovider $(PARALLEL) \
		-m "(plain_python or exact)$(UNLESS_SLOW)"
	$(if $(DOCS),$(MAKE) docs PYTHON=$(PYTHON) VENV=$(VENV))

test-all:
	$(MAKE) test SLOW=1

# The site is built once, under the newest Python (DOCS= leaves it out of the oldest's run).
# Slow tests included, as CI runs it.
test-pythons:
	$(MAKE) test SLOW=1 PYTHON=$(OLDEST_PYTHON) VENV=.venv-oldest DOCS=
	$(MAKE) test SLOW=1 PYTHON=$(NEWEST_PYTHON) VENV=.venv-newest

# The site, strictly: every warning is an error (-W), every cross-reference must resolve
# (-n), every tutorial runs (a failing one stops the build); then the doctests of the pages
# and docstrings, and no broken internal link. The tutorials run again only when they
# change (sphinx-gallery keeps a checksum of each).
docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -n -q -b html -d docs/_build/doctrees docs docs/_build/html
	$(BIN)/python -m sphinx -W --keep-going -n -q -b doctest -d docs/_build/doctrees docs docs/_build/doctest
	$(BIN)/python docs/_ext/check_links.py docs/_build/html
	@echo "fastem: the site is in docs/_build/html/index.html"

bench: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-only $(BENCH_ARGS)

# Save a run as the baseline (.benchmarks/), then compare a later run against it.
bench-save: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-only --benchmark-autosave $(BENCH_ARGS)

bench-compare: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-only --benchmark-compare \
		--benchmark-compare-fail=median:25% $(BENCH_ARGS)

# What CI checks before the tests, and .pre-commit-config.yaml before a commit: ruff's lint
# rules and its formatting (`ruff format src tests bench` fixes the latter), then mypy on
# the engine and the core (the files and settings are pyproject.toml's [tool.mypy]).
check: lint typecheck

# The site's code too: its configuration, extensions and tutorials.
LINTED := src tests bench docs/conf.py docs/_ext docs/tutorials

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .venv-oldest .venv-newest .pytest_cache .benchmarks .mypy_cache .coverage
	rm -rf docs/_build docs/auto_tutorials docs/reference/generated docs/sg_execution_times.rst
	find src -name '__pycache__' -type d -exec rm -rf {} +
