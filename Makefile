# Developer tasks of pip-accel. `make test` is what CI runs: it needs nothing
# but Python 3.11 and the package registry, and prepares everything else.

PYTHON ?= python3.11
VENV := .venv
WHEELS := .cache/test-wheels
# Every pip here ignores the machine's pip configuration, so that the test
# set-up behaves the same on every machine.
ISOLATE := unset $$(env | sed -n 's/^\(PIP_[A-Z0-9_]*\)=.*/\1/p'); export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1;

.PHONY: default test tox check unit lint docs benchmark clean

default:
	@echo "make test       run the whole suite (pip 23.0 and latest pip), lint and docs"
	@echo "make check      run the suite once, in the development environment"
	@echo "make unit       run the unit tests alone (seconds; no index, no fixtures)"
	@echo "make docs       build the documentation (warnings are errors)"
	@echo "make lint       ruff and mypy"
	@echo "make clean      remove what the targets above created"

$(VENV)/bin/tox:
	$(ISOLATE) $(PYTHON) -m venv $(VENV)
	$(ISOLATE) $(VENV)/bin/pip install --quiet --upgrade pip
	$(ISOLATE) $(VENV)/bin/pip install --quiet tox -r requirements-dev.txt -e .

# The build back-ends that the fixture packages of the tests need. They are
# fetched once, here, and served by the tests' own package index, so that no
# hermetic test touches the network.
$(WHEELS)/.done:
	mkdir -p $(WHEELS)
	$(ISOLATE) $(PYTHON) -m pip download --quiet --only-binary :all: --dest $(WHEELS) \
		'setuptools>=70' wheel flit_core
	touch $@

test: $(VENV)/bin/tox $(WHEELS)/.done
	$(ISOLATE) PIP_ACCEL_TEST_WHEELS=$(CURDIR)/$(WHEELS) $(VENV)/bin/tox run-parallel --parallel all -e pip26,pip23,lint,docs

check: $(VENV)/bin/tox $(WHEELS)/.done
	$(ISOLATE) PIP_ACCEL_TEST_WHEELS=$(CURDIR)/$(WHEELS) $(VENV)/bin/pytest $(PYTEST_ARGS)

# The unit tests need neither the wheels nor a package index: conftest.py marks
# `e2e` every test that starts a server, a venv or pip-accel itself.
unit: $(VENV)/bin/tox
	$(ISOLATE) $(VENV)/bin/pytest -m "not e2e" --cov --cov-report=term $(PYTEST_ARGS)

lint: $(VENV)/bin/tox
	$(VENV)/bin/ruff check pip_accel tests benchmarks
	$(VENV)/bin/ruff format --check pip_accel tests benchmarks
	$(VENV)/bin/mypy pip_accel tests

docs: $(VENV)/bin/tox
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .cache .tox build dist docs/_build *.egg-info
