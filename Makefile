# Erhvervsfremmeportalen: `make run` serves the portal with demo data, `make test` runs the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

# The first Python 3.12+ found: python3.13, python3.12, python3.14, pyenv's, then python3.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.14 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[234]*/bin/python 2>/dev/null | sort -r) python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: run test test-future lint typecheck check migrations-check ci-checks messages stop clean

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

# The suite with the clock of every process, the embedded PostgreSQL's included, moved ahead by
# libfaketime: by default to 23:10 UTC on the first 31 December at least 200 days away, which in
# Denmark is already New Year's Day, a public holiday, in the next year. FAKETIME=+200d (any
# libfaketime offset) picks another moment. Its embedded servers keep their data in var/future.
test-future: $(VENV)/.installed
	@lib=$$(dpkg -L libfaketime 2>/dev/null | grep 'libfaketimeMT\.so\.1$$' | head -n 1); \
	test -n "$$lib" || { echo "make test-future needs libfaketime: apt-get install faketime"; exit 1; }; \
	offset="$${FAKETIME:-}"; \
	if [ -z "$$offset" ]; then \
		now=$$(date +%s); year=$$(date -u -d "+200 days" +%Y); \
		at=$$(date -u -d "$$year-12-31 23:10:00" +%s); \
		[ "$$at" -ge $$((now + 200 * 86400)) ] || at=$$(date -u -d "$$((year + 1))-12-31 23:10:00" +%s); \
		offset="+$$((at - now))"; \
	fi; \
	echo "make test-future: every clock at $$(FAKETIME=$$offset LD_PRELOAD=$$lib date -u) ($$offset)"; \
	env -u DATABASE_URL -u REDIS_URL PORTAL_VAR_DIR=$(CURDIR)/var/future FAKETIME="$$offset" \
		LD_PRELOAD="$$lib" $(PY) -m portal.dev test $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

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
