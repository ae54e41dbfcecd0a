# gpfskit - the two commands a new user runs first: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The tested versions of every dependency (see "Pinned versions" in the README).
PINS := constraints.txt
# The oldest cloudpickle the project allows, kept beside the venv so that the tests can run
# user functions through it as well as through the pinned one.
OLDEST_CLOUDPICKLE := $(VENV)/compat/cloudpickle-oldest

.PHONY: run tour test lint bench pins clean

# The C extension is built by the install, so a change to its source installs again.
$(STAMP): pyproject.toml setup.py $(PINS) src/gpfskit/emulator/scan/_walk.c
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "gpfskit needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(PINS) -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps --target $(OLDEST_CLOUDPICKLE) \
		"cloudpickle==$$($(BIN)/python -c 'import tomllib,re; d=tomllib.load(open("pyproject.toml","rb")); print(next(re.search(r">=([0-9.]+)", x).group(1) for x in d["project"]["dependencies"] if x.startswith("cloudpickle")))')"
	@touch $(STAMP)

## run: set up, create the demo emulated cluster if there is none, and start the management
## service in the foreground (the first start prints the admin password, once)
run: $(STAMP)
	$(BIN)/gpfskit serve --demo

## tour: the cluster at a glance (creating the demo cluster if there is none)
tour: $(STAMP)
	$(BIN)/gpfskit tour

## test: the whole test suite (the sources are byte-compiled first: the suite starts many
## processes, and an environment with PYTHONDONTWRITEBYTECODE would compile them every time)
test: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 src
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

## lint: ruff over everything, mypy over the object API (configured in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/commands_per_operation.py
	$(BIN)/python benchmarks/api_queries.py

## pins: refresh constraints.txt to the newest releases within pyproject's ranges
pins:
	rm -rf $(VENV)-pins
	$(PYTHON) -m venv $(VENV)-pins
	$(VENV)-pins/bin/python -m pip install --quiet --upgrade pip
	$(VENV)-pins/bin/python -m pip install --quiet '.[test]'
	$(VENV)-pins/bin/python -m pip freeze --exclude gpfskit > $(PINS)
	rm -rf $(VENV)-pins
	@echo "constraints.txt refreshed: run 'make test', then commit it"

clean:
	rm -rf $(VENV) build src/*.egg-info
