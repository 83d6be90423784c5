# Two entry points for a fresh machine: `make demo` and `make test` (`make` alone lists the targets).
# Both create .venv with the machine's python3 and install with pip only, once: a stamp file in
# .venv records each install, and pip runs again only when pyproject.toml changes. `make test`
# also installs Debian's chromium, chromium-driver and graphviz when it can (as root with
# apt-get) for the browser tests of the backprop player and the test of the `dot` renderer;
# elsewhere those tests skip with a note, and under CI (CI=true) they fail instead of skipping.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_TEST_PACKAGES := chromium chromium-driver graphviz
# One stamp per install: each is newer than pyproject.toml once that install has run.
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
NOTEBOOKS_STAMP := $(VENV)/.installed-notebooks

.DEFAULT_GOAL := help
.PHONY: help demo test install install-test warm-kernels system-test-packages notebooks clean

help:
	@echo "chainrule: learn and do backpropagation. Targets:"
	@echo "  make demo       create .venv, install chainrule into it (once), compile the Numba kernels"
	@echo "                  once, run the w52 example (writes w52.svg) and train an XOR network"
	@echo "  make test       install the test extras (PyTorch, hypothesis, selenium, ...; as root"
	@echo "                  also Debian's chromium and graphviz) and run the whole suite"
	@echo "  make notebooks  re-execute the teaching notebooks in notebooks/ and save their outputs"
	@echo "  make clean      remove .venv and the build leftovers"
	@echo "pip runs again only when pyproject.toml changes (stamps in .venv)."

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# The test extras include everything the demo needs, so they satisfy its stamp too.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@ $(DEMO_STAMP)

$(NOTEBOOKS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[notebooks]"
	touch $@

install: $(DEMO_STAMP)

install-test: $(TEST_STAMP)

# Compile every Numba kernel once into Numba's disk cache (about 20 s the first time, under a
# second when they are cached), so no later tensor operation pauses to compile one.
warm-kernels: $(DEMO_STAMP)
	$(BIN)/python -m autograd_core.kernels.warmup

system-test-packages:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && command -v dot >/dev/null; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		for attempt in 1 2 3; do \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends $(SYSTEM_TEST_PACKAGES) >/dev/null && break; \
			echo "apt-get failed (attempt $$attempt of 3)"; sleep 10; \
		done; \
	else \
		echo "note: $(SYSTEM_TEST_PACKAGES) are not installed and this is not root with apt-get:"; \
		echo "      the headless-browser and dot-renderer tests will be skipped"; \
	fi

demo: $(DEMO_STAMP) warm-kernels
	$(BIN)/chainrule w52 --svg w52.svg
	$(BIN)/chainrule train xor

test: $(TEST_STAMP) system-test-packages
	$(BIN)/python -m pytest

# Re-execute the teaching notebooks and save them with their outputs.
notebooks: $(NOTEBOOKS_STAMP)
	$(BIN)/python notebooks/run_notebooks.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
