# drumtx: `make demo` transcribes the bundled example; `make test` runs every test.
# Both create .venv on first use and are quick once it exists.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
EXAMPLE := examples/groove.flac

.PHONY: demo test lint system research clean

$(VENV)/.runtime: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@

system:
	bash .ci/system-packages.sh

research: $(VENV)/.dev
	sh data_prep/install_sounds.sh

demo: $(VENV)/.runtime
	$(VENV)/bin/drumtx transcribe $(EXAMPLE) -o out --force
	@ls -l out

test: $(VENV)/.dev system
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) out
