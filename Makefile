# pgwsgi: `make run` serves the demo, `make test` runs the test suite.
# Both set up everything they need: a virtualenv, the package, and (unless a DSN
# is given) a private PostgreSQL server under .devdb/.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEVDB := .devdb
STAMP := $(VENV)/.installed

# Give PGWSGI_TEST_DSN (a superuser DSN) to test against your own server,
# PGRST_DB_URI to run the demo against your own database.
PGWSGI_TEST_DSN ?=
PGWSGI_KEEP_DEVDB ?=

.PHONY: venv run test lint bench devdb-start devdb-stop clean

venv: $(STAMP)
$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

devdb-start: venv
	@$(PY) -m pgwsgi.devdb start $(DEVDB)

devdb-stop: venv
	@$(PY) -m pgwsgi.devdb stop $(DEVDB)

run: venv
	@$(PY) -m pgwsgi.demo run --devdb $(DEVDB)

# Without PGWSGI_TEST_DSN the private server is started for the run and stopped
# after it (PGWSGI_KEEP_DEVDB=1 keeps it running for the next run).
test: venv
	$(PY) -m ruff check pgwsgi tests bench
	$(PY) -m ruff format --check --quiet pgwsgi tests bench
	@if [ -n "$(PGWSGI_TEST_DSN)" ]; then \
	  PGWSGI_TEST_DSN="$(PGWSGI_TEST_DSN)" $(PY) -m pytest -q; \
	else \
	  dsn=$$($(PY) -m pgwsgi.devdb start $(DEVDB)) || exit 1; \
	  PGWSGI_TEST_DSN="$$dsn" $(PY) -m pytest -q; status=$$?; \
	  if [ -z "$(PGWSGI_KEEP_DEVDB)" ]; then $(PY) -m pgwsgi.devdb stop $(DEVDB); fi; \
	  exit $$status; \
	fi

lint: venv
	$(PY) -m ruff check pgwsgi tests bench
	$(PY) -m ruff format --check pgwsgi tests bench

bench: venv
	@$(PY) -m bench.run --devdb $(DEVDB)

clean: devdb-stop
	rm -rf $(DEVDB) $(VENV) *.egg-info
