# Erhvervsfremmeportalen: `make run` serves the portal with demo data, `make test` runs the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

# The first Python 3.12+ found: python3.13, python3.12, python3.14, pyenv's, then python3.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.14 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[234]*/bin/python 2>/dev/null | sort -r) python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: run test lint typecheck check migrations-check ci-checks messages stop clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12 / python3.13 on PATH)."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" --config-settings editable_mode=compat
	@touch $@

run: $(VENV)/.installed
	$(PY) -m portal.dev run

test: $(VENV)/.installed
	$(PY) -m portal.dev test $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(NO_SERVICES_ENV) $(VENV)/bin/mypy .

migrations-check: $(VENV)/.installed
	DEBUG=true $(PY) -m portal.dev manage makemigrations --check --dry-run

# Commands that load the settings but need no database or broker (translations, mypy's Django
# plugin): placeholder URLs keep the settings from starting the embedded servers.
NO_SERVICES_ENV := DATABASE_URL=$${DATABASE_URL:-postgresql://localhost/unused} \
	REDIS_URL=$${REDIS_URL:-redis://localhost:6379/0} DEBUG=$${DEBUG:-true}
messages: $(VENV)/.installed
	$(NO_SERVICES_ENV) $(PY) manage.py makemessages -l en --no-obsolete --add-location=file \
		--ignore=var --ignore=tests --ignore=benchmarks --ignore=static --ignore='*.egg-info'
	$(NO_SERVICES_ENV) $(PY) manage.py compilemessages -l en --ignore=.venv --ignore=var

stop: $(VENV)/.installed
	$(PY) -m portal.dev stop

clean:
	rm -rf $(VENV) var
