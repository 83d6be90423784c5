# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create .venv with the machine's python3 and install with pip only. `make test` also
# installs Debian's chromium, chromium-driver and graphviz when it can (as root with apt-get)
# for the browser tests of the backprop player and the test of the `dot` renderer; elsewhere
# those tests skip with a note, and under CI (CI=true) they fail instead of skipping.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_TEST_PACKAGES := chromium chromium-driver graphviz

.PHONY: demo test install install-test system-test-packages notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"

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

demo: install
	$(BIN)/chainrule w52 --svg w52.svg
	$(BIN)/chainrule train xor

test: install-test system-test-packages
	$(BIN)/python -m pytest

# Re-execute the teaching notebooks and save them with their outputs.
notebooks: $(BIN)/python
	$(BIN)/pip install -q -e ".[notebooks]"
	$(BIN)/python notebooks/run_notebooks.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
